//! Landlock (feature `landlock`): [`spec`] (`Landlock`, `FsAccess`, `Scopes`, public),
//! [`plan`] (the kernel's ABI checked and every struct computed at `build()`, **parent**),
//! [`apply`] (the **child** makes the ruleset, adds its rules and restricts itself, last
//! before exec), [`describe`] (a failure in the child, in words), [`error`] (`build()`'s
//! refusals).
//!
//! Why the child makes the ruleset: rules bind to inodes, and the paths a sandbox sees (its
//! tmpfs, /dev, /proc, its binds) exist only after its mounts. A ruleset made once in the
//! parent could hold only host inodes, and children adding their own to it would pile every
//! sandbox's inodes into one shared ruleset. The parent does everything else once.

pub(crate) mod apply;
pub(crate) mod describe;
pub(crate) mod error;
pub(crate) mod plan;
pub(crate) mod spec;

/// The newest Landlock ABI isobox knows (7: Linux 6.15, whose addition, audit logging, is
/// left at the kernel's default).
pub(crate) const NEWEST_ABI: u32 = 7;
/// TCP bind and connect rules (Linux 6.7).
pub(crate) const TCP_ABI: u32 = 4;
/// Scopes: abstract unix sockets and signals (Linux 6.12).
pub(crate) const SCOPE_ABI: u32 = 6;
