//! Network modes (**parent**): which network a sandbox has, chosen with
//! [`SandboxBuilder::network`](crate::SandboxBuilder::network).
//!
//! - spec: [`spec`] (`Network`, `Veth`), its refusals in [`error`].
//! - plan: [`plan`] (validated at `build()`: the namespaces it implies, the veth's addresses).
//! - apply, all in the parent: [`netns`] (a thread's network namespace entered and left, for
//!   `Join` and for the inside of a veth), [`veth`] (the pair made while the child waits for
//!   `go`, and ended with its `Child`, [`deleter`]), [`name`] and [`sweep`] (host-side names, and the
//!   leftovers of dead isobox processes), [`nat`] (a veth's way out, `Veth::nat`), [`bridge`] (a bridge
//!   of veths, `Veth::bridge`), [`registry`] (the addresses of this process's live sandboxes). The child
//!   only brings loopback up (`net::apply`).

pub(crate) mod bridge;
pub(crate) mod deleter;
pub(crate) mod error;
pub(crate) mod name;
pub(crate) mod nat;
pub(crate) mod nat_error;
pub(crate) mod netns;
pub(crate) mod plan;
pub(crate) mod registry;
pub(crate) mod spec;
pub(crate) mod sweep;
pub(crate) mod veth;
