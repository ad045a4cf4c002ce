//! isobox's own cgroupfs layer for v1, v2 and hybrid hosts (**parent** only).
//!
//! - [`layout`]: which hierarchy holds which controller, from /proc/self/mountinfo.
//! - [`limits`] → [`settings`]: what the user asked for, validated, and the files that carry
//!   it on each version (the table is in `settings`).
//! - [`group`]: one sandbox's cgroup: created and limited (each write read back), killed and
//!   removed after. On pure v2 it is made before the clone and the child is born in it; on v1
//!   and hybrid hosts it is made while the child sets up, and the child joins it ([`join`]).
//! - [`stats`]: what the sandbox used.
//! - [`parent`]: where sandboxes' cgroups go; `parent_dirs`: preparing those parents.

mod cpulist;
mod fs;
pub(crate) mod group;
pub(crate) mod join;
pub(crate) mod layout;
pub(crate) mod limits;
pub(crate) mod parent;
mod parent_dirs;
pub(crate) mod settings;
pub(crate) mod stats;

pub use cpulist::CpuList;
pub use limits::IoLimit;
pub(crate) use settings::Controller;
pub use stats::CgroupStats;
