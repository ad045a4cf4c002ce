//! An overlay root: read-only layer directories under a writable upper, the root an image runs
//! on. The **parent** checks and compiles it at `build()` and makes a spawn's upper directory;
//! the **child** mounts it as one operation of the mount plan (`Op::Overlay`, where a `rootfs`
//! is bound), before the pivot.
//!
//! - spec: [`spec`] (`OverlayRoot`, `Upper`, public), [`error`] (`OverlayError`);
//! - plan: [`plan`] compiles it into [`compiled`] (the layers as the kernel gets them, the
//!   staging directory, the options);
//! - apply: [`apply`] (**child**: fsopen, `lowerdir+` per layer, fsmount, move_mount; or the
//!   legacy mount(2) string), [`upper`] (**parent**, per spawn: the upper directory; removed
//!   by descriptor, [`remove`]; those of dead processes swept at `build()`, [`sweep`]);
//! - describe: [`describe`] (the failed stage, layer or option, and a hint).

pub(crate) mod apply;
pub(crate) mod compiled;
pub(crate) mod describe;
pub(crate) mod error;
pub(crate) mod plan;
pub(crate) mod remove;
pub(crate) mod spec;
pub(crate) mod sweep;
pub(crate) mod upper;
