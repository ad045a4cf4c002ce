//! isobox: run a Linux process in namespaces of its own, with its own root filesystem,
//! hostname, id maps and cgroup limits, from a builder that validates everything before the
//! first spawn.
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
//! println!("{}", out.report); // exited with 0 after 1.2 ms (0.6 ms CPU)
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
//! # Landlock (feature `landlock`)
//! `SandboxBuilder::landlock` confines the program with a Landlock ruleset (`Landlock`):
//! every filesystem right the kernel's Landlock ABI knows is denied but where a rule allows
//! it, with rules naming paths as the sandbox sees them; TCP ports and scopes on request. The
//! child restricts itself last before exec. A kernel without Landlock, or whose ABI lacks what
//! the rules need, fails `build()` (`LandlockError`); `Sandbox::landlock_abi` reports the ABI
//! in use.
//!
//! ```no_run
//! # #[cfg(feature = "landlock")] {
//! use isobox::{Command, Landlock, Namespaces, Sandbox};
//!
//! let sandbox = Sandbox::builder()
//!     .namespaces(Namespaces::USER | Namespaces::PID | Namespaces::MOUNT)
//!     .landlock(Landlock::new().read_exec("/").read_write("/tmp"))
//!     .build()?;
//! let out = sandbox.output(Command::new("sh").args(["-c", "touch /tmp/ok && touch /denied"]))?;
//! assert!(!out.report.success()); // touch: cannot touch '/denied': Permission denied
//! # }
//! # Ok::<(), isobox::Error>(())
//! ```
//!
//! # Capabilities and the terminal
//! The program keeps no capability by default: all five sets (bounding, permitted,
//! effective, inheritable, ambient) are emptied before exec, also for uid 0 inside a user
//! namespace and for a root caller without one; [`SandboxBuilder::capabilities`] keeps a
//! chosen set (e.g. [`Capabilities::DOCKER_DEFAULT`]) and
//! [`SandboxBuilder::ambient_capabilities`] carries some across exec for a non-root uid. The
//! program also starts in a session of its own, without a controlling terminal, so a terminal
//! on its stdin is not the caller's to use ([`SandboxBuilder::new_session`] turns that off
//! for interactive use).
//!
//! # Safety in multi-threaded programs
//! The child runs between clone and exec only on buffers prepared by the parent and makes
//! raw system calls: no allocation, locks, formatting or panics (see `sys::vmclone`).

mod build;
mod builder;
mod caps;
mod cgroup;
mod child;
mod command;
mod error;
mod hint;
mod kernel;
#[cfg(feature = "landlock")]
mod landlock;
mod mount;
mod namespaces;
mod net;
mod rlimit;
mod sandbox;
mod signal;
mod spawn;
mod sys;
mod time;
mod user;
mod uts;
mod validate;

pub use builder::SandboxBuilder;
pub use caps::spec::Capabilities;
pub use cgroup::cpulist::CpuList;
pub use cgroup::error::{CgroupError, LimitError, NoDelegationReason};
pub use cgroup::spec::IoLimit;
pub use cgroup::stats::CgroupStats;
pub use child::setup_error::{SetupError, SetupObject};
pub use child::step::Step;
pub use command::{Command, Stdio, DEFAULT_PATH};
pub use error::{ConfigError, Error, SpawnError};
#[cfg(feature = "landlock")]
pub use landlock::error::LandlockError;
#[cfg(feature = "landlock")]
pub use landlock::spec::{FsAccess, Landlock, Scopes};
pub use mount::default_root::DEFAULT_ROOT_DIRS;
pub use mount::describe::MountAction;
pub use mount::masks::{MASKED_PROC_PATHS, READ_ONLY_PROC_PATHS};
pub use mount::ops::MountPart;
pub use mount::spec::Mount;
pub use namespaces::Namespaces;
pub use rlimit::spec::{Resource, Rlimit};
pub use sandbox::Sandbox;
pub use signal::Signal;
pub use spawn::exit_report::{ExitReport, Output, ResourceUsage};
pub use spawn::handle::Child;
pub use time::spec::TimeOffsets;
pub use user::plan::NOBODY;
pub use user::spec::{IdRange, UserMapping};
