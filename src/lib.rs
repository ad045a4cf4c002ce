//! isobox: run a Linux process in namespaces of its own, with its own root filesystem,
//! hostname and id maps, from a builder that validates everything before the first spawn.
//!
//! ```no_run
//! use isobox::{Command, Mount, Namespaces, Sandbox};
//!
//! let sandbox = Sandbox::builder()
//!     .namespaces(Namespaces::USER | Namespaces::PID | Namespaces::MOUNT | Namespaces::UTS | Namespaces::IPC)
//!     .mount(Mount::tmpfs("/scratch").size(16 << 20))
//!     .hostname("box")
//!     .build()?;
//! let mut cmd = Command::new("hostname");
//! let out = sandbox.output(&cmd)?;
//! assert_eq!(out.stdout, b"box\n");
//! # Ok::<(), isobox::Error>(())
//! ```
//!
//! # The default root
//! With `Namespaces::MOUNT` and no [`SandboxBuilder::rootfs`], the sandbox's root is a fresh
//! tmpfs holding: the host's `/usr`, `/bin`, `/sbin`, `/lib`, `/lib32`, `/lib64`, `/libx32`
//! and `/etc`, bound read-only where they are directories and recreated as the same symlinks
//! where they are links (merged /usr), and skipped where missing ([`DEFAULT_ROOT_DIRS`]); a
//! fresh `/proc` when there is a pid namespace; a minimal `/dev` ([`Mount::dev`]); and an empty
//! tmpfs at `/tmp`. Mounts given to the builder are applied on top, in order.
//!
//! # Safety in multi-threaded programs
//! The child runs between clone and exec only on buffers prepared by the parent and makes
//! raw system calls: no allocation, locks, formatting or panics (see `sys::vmclone`).
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]

mod builder;
mod cgroup;
mod child;
mod child_handle;
mod command;
mod config;
mod describe;
mod error;
mod idmap;
mod kernel;
mod mount;
mod namespaces;
mod plan;
mod prepare;
mod probe;
mod report;
mod rlimit;
mod sandbox;
mod sys;

pub use builder::{SandboxBuilder, TimeOffsets};
pub use cgroup::{CgroupStats, CpuList, IoLimit};
pub use child_handle::{Child, ExitReport, Output, ResourceUsage};
pub use command::{Command, Stdio, DEFAULT_PATH};
pub use error::{CgroupError, ConfigError, Error, SetupError, SpawnError};
pub use idmap::{IdRange, UserMapping};
pub use mount::Mount;
pub use namespaces::Namespaces;
pub use plan::DEFAULT_ROOT_DIRS;
pub use report::Step;
pub use rlimit::{Resource, Rlimit};
pub use sandbox::Sandbox;
