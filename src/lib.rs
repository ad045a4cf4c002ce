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
//! # The system-call filter
//! Every sandbox's program runs under a seccomp filter unless told otherwise
//! ([`SandboxBuilder::seccomp`]): [`Seccomp::default_profile`], an allowlist in the spirit of
//! Docker's. Anything it does not allow fails with EPERM. Denied by name
//! ([`Seccomp::default_denied`]): creating or joining namespaces (`unshare`, `setns`,
//! `clone` with a `CLONE_NEW*` flag; `clone3` answers ENOSYS so that libc falls back to
//! `clone`), mounting and the new mount API, kernel keyrings, `bpf` and `perf_event_open`,
//! loading kernel modules and kexec, `userfaultfd`, io_uring, `ptrace` and reading or writing
//! other processes' memory, and calls that change the host's state (reboot, swap, the clock,
//! the hostname); by argument ([`Seccomp::default_restricted`]): `socket(AF_VSOCK)`, the
//! TIOCSTI and TIOCLINUX ioctls, and all but the plain Linux personalities. On x86_64 the x32
//! ABI is denied, and a foreign architecture (i386 system calls) kills the process.
//! [`Seccomp::allow`] and [`Seccomp::deny`] change single system calls, [`Seccomp::none`]
//! turns the filter off, [`Seccomp::from_bpf`] installs a program of your own. The filter is
//! compiled once at `build()` and installed as the last step before exec; a program the
//! filter kills is reported as such ([`ExitReport::killed_by_seccomp`]).
//!
//! # Async (feature `tokio`)
//! `Sandbox::spawn_async` returns a future of an `isobox::tokio::AsyncChild`: the spawn itself
//! runs on a thread isobox owns (started on first use, never ended, so that the
//! die-with-parent signal, which Linux ties to the spawning thread, only comes with the end
//! of the process), and the child's `wait`, `wait_timeout` and `wait_with_output` wait on its
//! pidfd through the runtime's reactor, cancel-safe. Its pipes are tokio pipes. Dropping an
//! unwaited `AsyncChild` kills it at once and leaves the reaping to a second isobox thread.
//!
//! ```no_run
//! # #[cfg(feature = "tokio")]
//! # async fn f() -> Result<(), isobox::Error> {
//! use isobox::{Command, Sandbox};
//!
//! let sandbox = Sandbox::builder().build()?;
//! let out = sandbox.output_async(Command::new("echo").arg("hi")).await?;
//! assert_eq!(out.stdout, b"hi\n");
//! # Ok(()) }
//! ```
//!
//! # More commands in one sandbox
//! [`Child::exec`] runs another program in a running sandbox, with its namespaces, root,
//! cgroup and hardening, as a [`Child`] of its own (Linux 5.8); [`ExecError`] says why a
//! sandbox cannot be joined (it has exited, or has a time namespace or notify rules).
//!
//! ```no_run
//! use isobox::{Command, Namespaces, Sandbox, Stdio};
//!
//! let sandbox = Sandbox::builder().namespaces(Namespaces::USER | Namespaces::PID | Namespaces::MOUNT).build()?;
//! let mut first = sandbox.spawn(Command::new("sleep").arg("30"))?;
//! first.exec(Command::new("sh").args(["-c", "echo hi > /tmp/note"]))?.wait()?;
//! let out = first.exec(Command::new("cat").arg("/tmp/note").stdout(Stdio::piped()))?.wait_with_output()?;
//! assert_eq!(out.stdout, b"hi\n");
//! # Ok::<(), isobox::Error>(())
//! ```
//!
//! # Images
//! An [`ImageStore`] is a directory in the OCI image layout (tested with skopeo, umoci and,
//! tarred as an oci-archive, containerd) with isobox's cache of unpacked layers beside it. It imports OCI layouts,
//! oci-archives and docker-archives, checking every blob's digest and every layer's diff-id,
//! and writes a layer that several images share once. An [`Image`] gives its config's run
//! defaults and its unpacked layer directories, lowest first; [`SandboxBuilder::image`] runs
//! it (its layers as an overlay root, its config as the commands' defaults, see
//! [`Sandbox::image_command`]).
//!
//! ```no_run
//! use isobox::ImageStore;
//!
//! let store = ImageStore::open("/var/lib/myapp/images")?;
//! let imported = store.import_docker_archive("busybox.tar", None)?;
//! println!("{} blobs written", imported.report.blobs_written);
//! let image = store.image("busybox:latest")?;
//! println!("{:?} over {:?}", image.config().cmd, image.layer_dirs());
//! # Ok::<(), isobox::StoreError>(())
//! ```
//!
//! A sandbox's changes become a new image with [`ImageStore::commit`]: run it over the image's
//! layers with a kept directory upper, then commit that upper over the image.
//!
//! ```no_run
//! use isobox::{Command, CommitOptions, ImageStore, OverlayRoot, Sandbox, Upper};
//!
//! let store = ImageStore::open("/var/lib/myapp/images")?;
//! let base = store.image("busybox:latest")?;
//! let root = OverlayRoot::new(base.layer_dirs()).upper(Upper::Dir("/var/lib/myapp/uppers".into())).keep_upper(true);
//! let sandbox = Sandbox::builder().overlay_root(root).build()?;
//! let mut cmd = Command::new("/bin/sh");
//! cmd.args(["-c", "echo hello > /greeting"]);
//! let mut child = sandbox.spawn(&cmd)?;
//! child.wait()?;
//! let upper = child.upper_dir().expect("a kept upper");
//! let built = store.commit(&base, &upper, &CommitOptions::new("greeter:1").cmd(["/bin/cat", "/greeting"]))?;
//! println!("{}", built.manifest_digest());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With feature `registry`, `ImageStore::pull` fetches an image by reference from a registry
//! (only the blobs the store lacks, each checked as an import checks it) and
//! `ImageStore::push` uploads one; `RegistryOptions` says plain HTTP or HTTPS (loopback hosts
//! are plain by default) and gives credentials for `Basic` and `Bearer` (token) challenges.
//!
//! ```no_run
//! # #[cfg(feature = "registry")] {
//! use isobox::{ImageStore, RegistryOptions};
//!
//! let store = ImageStore::open("/var/lib/myapp/images")?;
//! let pulled = store.pull("127.0.0.1:5000/team/app:1.0", &RegistryOptions::new())?;
//! println!("{} blobs fetched, {} bytes", pulled.blobs_fetched, pulled.bytes_fetched);
//! store.push("127.0.0.1:5000/team/app:1.0", "127.0.0.1:5000/team/app:copy", &RegistryOptions::new())?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What this host allows
//! [`doctor()`] checks, for the calling user, everything isobox needs from the host: the
//! kernel's system calls and namespaces, seccomp and Landlock, the user namespace policy and
//! the knob that forbids them, the cgroup layout and delegation, subordinate ids and
//! newuidmap, and what user-mode networking needs. Each [`Finding`] has a [`CheckState`], a
//! typed [`Detail`] and a fix; the report prints as a table (`cargo run --example doctor`).
//! It changes nothing on the host and takes a few milliseconds.
//!
//! ```no_run
//! use isobox::{Check, CheckState};
//!
//! let report = isobox::doctor();
//! println!("{report}");
//! if report.state(Check::UserNamespaces) != CheckState::Works {
//!     eprintln!("{:?}", report.get(Check::UserNamespaces).and_then(|f| f.fix.as_deref()));
//! }
//! ```
//!
//! # Safety in multi-threaded programs
//! The child runs between clone and exec only on buffers prepared by the parent and makes
//! raw system calls: no allocation, locks, formatting or panics (see `sys::vmclone`).

#[cfg(feature = "tokio")]
mod asyncio;
mod build;
mod builder;
mod caps;
mod cgroup;
mod child;
mod command;
mod doctor;
mod error;
mod held;
mod hint;
mod image;
mod join;
mod kernel;
#[cfg(feature = "landlock")]
mod landlock;
mod mount;
mod namespaces;
mod net;
mod owner;
mod pool;
mod rlimit;
mod sandbox;
mod seccomp;
mod signal;
mod spawn;
mod sys;
mod sysctl;
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
pub use doctor::doctor;
pub use doctor::report::{
    CgroupLayoutKind, Check, CheckState, Detail, DoctorReport, Finding, HelperPrivilege, HelperRun, Knob,
};
pub use error::{ConfigError, Error, SpawnError};
pub use held::error::HeldError;
pub use held::{Detached, HeldChild};
pub use image::build::error::BuildError;
pub use image::build::layer::{write_layer, write_layer_with, LayerReport};
pub use image::build::spec::{CommitOptions, LayerCompression, LayerOptions, OwnerMap};
pub use image::error::{UnpackError, UnpackErrorKind};
#[cfg(feature = "registry")]
pub use image::registry::error::{RegistryError, RegistryStep};
#[cfg(feature = "registry")]
pub use image::registry::options::{Pulled, Pushed, RegistryOptions};
pub use image::run::error::ImageRunError;
pub use image::store::digest::Digest;
pub use image::store::error::StoreError;
pub use image::store::image::{GcReport, Image, ImageConfig, ImageEntry, ImageLayer, ImportReport, Imported};
pub use image::store::limits::StoreLimits;
pub use image::store::ImageStore;
pub use image::unpack::{unpack_layer, IdShift, UnpackOptions, UnpackReport};
pub use join::error::ExecError;
#[cfg(feature = "landlock")]
pub use landlock::error::LandlockError;
#[cfg(feature = "landlock")]
pub use landlock::spec::{FsAccess, Landlock, Scopes};
pub use mount::default_root::DEFAULT_ROOT_DIRS;
pub use mount::describe::MountAction;
pub use mount::masks::{MASKED_PROC_PATHS, READ_ONLY_PROC_PATHS};
pub use mount::ops::MountPart;
pub use mount::overlay::error::OverlayError;
pub use mount::overlay::spec::{OverlayRoot, Upper, MAX_OVERLAY_LAYERS};
pub use mount::spec::{DeviceNode, Mount, Propagation};
pub use namespaces::Namespaces;
pub use net::bandwidth::error::{BandwidthError, BandwidthField, TbfParam};
pub use net::bandwidth::spec::Bandwidth;
pub use net::bandwidth::stats::{NetStats, TbfStats};
pub use net::mode::error::{NetworkConfigError, NetworkError};
pub use net::mode::nat_error::{NatError, NatStep};
pub use net::mode::spec::{Bridge, Network, Veth};
pub use net::netlink::error::{NetOp, NetlinkError};
pub use net::usermode::error::{UserNetError, UserNetStep};
pub use net::usermode::helper::UserNetProcess;
pub use net::usermode::plan::UserNetPlan;
pub use net::usermode::spec::{PortForward, Protocol, UserNet, UserNetHelper};
pub use net::usermode::start::start as start_user_net;
pub use pool::error::{PoolError, PoolLimit};
pub use pool::{SandboxPool, MAX_POOL_SIZE};
pub use rlimit::spec::{Resource, Rlimit};
pub use sandbox::Sandbox;
pub use seccomp::error::SeccompError;
pub use seccomp::notify::{Notification, Notifier, NotifyError, Response};
pub use seccomp::spec::{BpfInstruction, Seccomp};
pub use seccomp::syscalls::Syscall;
pub use signal::Signal;
pub use spawn::exit_report::{ExitReport, Output, ResourceUsage};
pub use spawn::handle::Child;
pub use time::spec::TimeOffsets;
pub use user::plan::NOBODY;
pub use user::spec::{IdRange, UserMapping};

/// The async child for tokio (feature `tokio`), from [`Sandbox::spawn_async`].
#[cfg(feature = "tokio")]
pub mod tokio {
    pub use crate::asyncio::child::{AsyncChild, ChildStderr, ChildStdin, ChildStdout};
}
