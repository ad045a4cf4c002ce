//! The sandbox's root and mounts: the **parent** compiles the plan at `build()`, the
//! **child** runs it.
//!
//! - spec: [`spec`] (`Mount`, public; the builder's `MountSpec`), [`check`] (at `build()`).
//! - plan: [`plan`] compiles them into [`ops`], the default root's in [`default_root`];
//!   [`probe`] asks what a host path is (a seam for tests).
//! - apply: [`apply`] (**child**) runs the operations.
//! - describe: [`describe`] names a failed operation in the user's terms.
//! - [`overlay`]: an overlay root (layers and an upper), one operation of the plan.

pub(crate) mod apply;
mod check;
pub(crate) mod default_root;
pub(crate) mod describe;
pub(crate) mod masks;
pub(crate) mod ops;
pub(crate) mod overlay;
pub(crate) mod plan;
pub(crate) mod probe;
pub(crate) mod spec;
