//! Capabilities: every set dropped by default, a chosen set kept, some raised into the
//! ambient set.
//!
//! - spec: [`spec`] (`Capabilities`, public).
//! - plan: [`plan`] (at `build()`: the bounding drops, the capset words, the ambient list,
//!   checked against the kernel's last capability and, without a user namespace, the
//!   caller's own).
//! - apply: [`apply`] (**child**: ambient clear, bounding drop and KEEPCAPS before the uid
//!   switch; capset and ambient raise after it).
//! - describe: [`describe`].

pub(crate) mod apply;
pub(crate) mod describe;
pub(crate) mod plan;
pub(crate) mod spec;
