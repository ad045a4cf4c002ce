//! Typed errors (**parent**), rolled up into [`Error`]. Each names the step, the object and
//! the errno, and carries a hint where the host is the likely cause. The wings' own errors
//! ([`CgroupError`], [`LimitError`], [`SeccompError`], [`SetupError`]) live with them.

use std::ffi::OsString;
use std::io;
use std::path::PathBuf;

use nix::errno::Errno;

use crate::caps::spec::Capabilities;
use crate::cgroup::error::{CgroupError, LimitError, PlanError};
use crate::child::setup_error::SetupError;
use crate::hint;
use crate::image::run::error::ImageRunError;
use crate::join::error::ExecError;
#[cfg(feature = "landlock")]
use crate::landlock::error::LandlockError;
use crate::mount::overlay::error::OverlayError;
use crate::mount::spec::Mount;
use crate::namespaces::Namespaces;
use crate::net::mode::error::{NetworkConfigError, NetworkError};
use crate::pool::error::PoolError;
use crate::rlimit::spec::Resource;
use crate::seccomp::error::SeccompError;
use crate::signal::Signal;

/// Everything `build()` and `spawn()` can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration cannot work.
    #[error("invalid sandbox configuration: {0}")]
    Config(#[from] ConfigError),
    /// The parent failed to start the child.
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    /// The child failed to set itself up before exec (boxed: it names its object in full).
    #[error(transparent)]
    Setup(Box<SetupError>),
    /// The sandbox's cgroup could not be set up, enforced, read or removed.
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    /// The program is not in the sandbox (no file at its path, or in no PATH directory).
    #[error("program {program:?} not found inside the sandbox (looked at: {})", paths(searched))]
    ProgramNotFound {
        /// The program as the command names it.
        program: OsString,
        /// Every path tried, in order.
        searched: Vec<PathBuf>,
    },
    /// wait4 on the sandbox's first process failed.
    #[error("waiting for sandbox process {pid}: {source}")]
    Wait {
        /// Its host pid.
        pid: i32,
        /// The error.
        source: io::Error,
    },
    /// Sending a signal to the sandbox's first process failed.
    #[error("sending {signal} to sandbox process {pid}: {source}")]
    Signal {
        /// Its host pid.
        pid: i32,
        /// The signal.
        signal: Signal,
        /// The error.
        source: io::Error,
    },
    /// Reading the sandbox's piped stdout or stderr failed.
    #[error("reading the sandbox's piped output: {0}")]
    Output(#[source] io::Error),
    /// A pool refused, or could not hand over, a command.
    #[error(transparent)]
    Pool(#[from] PoolError),
    /// A held spawn was refused, or its sandbox could not be detached.
    #[error(transparent)]
    Held(#[from] crate::held::error::HeldError),
    /// A command could not be run in a live sandbox (`Child::exec`).
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// The sandbox's network (a joined namespace, a veth pair) could not be set up.
    #[error(transparent)]
    Network(#[from] NetworkError),
}

impl From<SetupError> for Error {
    fn from(e: SetupError) -> Error {
        Error::Setup(Box::new(e))
    }
}

fn paths(list: &[PathBuf]) -> String {
    list.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// A configuration that cannot work, found by `build()` or, for a `Command`, by `spawn()`
/// before anything is started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A setting needs a namespace the sandbox does not have.
    #[error("{what} needs {}", namespaces_text(*namespace))]
    NeedsNamespace {
        /// The setting.
        what: &'static str,
        /// The namespace it needs.
        namespace: Namespaces,
    },
    /// A path that must be absolute is not.
    #[error("{what} must be an absolute path, got {path:?}")]
    RelativePath {
        /// Which path.
        what: &'static str,
        /// The path given.
        path: PathBuf,
    },
    /// A string holds a NUL byte, which the kernel would read as its end.
    #[error("{what} contains a NUL byte")]
    NulByte {
        /// Which string.
        what: String,
    },
    /// A hostname or domain name over the kernel's 64 bytes.
    #[error("{what} is {len} bytes; the kernel allows at most 64")]
    NameTooLong {
        /// Which name.
        what: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// A host path that cannot be used.
    #[error("{what} {path:?} is not usable: {source}")]
    Path {
        /// Which path.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A path that must be a directory is not.
    #[error("{what} {path:?} is not a directory")]
    NotADirectory {
        /// Which path.
        what: &'static str,
        /// The path.
        path: PathBuf,
    },
    /// An rlimit whose soft limit is above its hard limit.
    #[error("rlimit {}: soft limit {soft} is above hard limit {hard}", resource.name())]
    Rlimit {
        /// The resource.
        resource: Resource,
        /// The soft limit given.
        soft: u64,
        /// The hard limit given.
        hard: u64,
    },
    /// An id of 4294967295, which is -1 to the kernel: `setresuid`/`setresgid` would leave the
    /// id as it is (a root caller's root) instead of switching to it.
    #[error("{kind} {id} is -1 to the kernel, which would leave the {kind} unchanged; it cannot be asked for")]
    InvalidId {
        /// `uid` or `gid`.
        kind: &'static str,
        /// The id.
        id: u32,
    },
    /// An id the command runs as that the user namespace does not map.
    #[error("{kind} {id} inside the sandbox is not covered by the user namespace's {kind} map")]
    UnmappedId {
        /// `uid` or `gid`.
        kind: &'static str,
        /// The id.
        id: u32,
    },
    /// `UserMapping::Subordinate` without usable subordinate ids.
    #[error("subordinate ids for {user}: {reason} (add a line to {file}, e.g. with usermod --add-subuids)")]
    SubordinateIds {
        /// The user.
        user: String,
        /// `/etc/subuid` or `/etc/subgid`.
        file: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// An id map or id setting the kernel would refuse.
    #[error("{what}: {reason}")]
    IdMap {
        /// Which map or setting.
        what: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// No host directory to assemble the default root at.
    #[error("no host directory to mount the default root over: each of /tmp, /mnt, /run, /var/tmp, /srv, /opt is missing or holds a bind source")]
    NoStagingDirectory,
    /// A descriptor passed at 0, 1 or 2, which are the program's stdio.
    #[error("descriptor {fd} cannot be passed with pass_fd: 0, 1 and 2 are stdio; set them with Command::stdin, stdout and stderr")]
    StdioFdTarget {
        /// The target number.
        fd: i32,
    },
    /// A descriptor passed at a number the program could not have: at or above the open-files
    /// limit (RLIMIT_NOFILE) the child runs with, less the one it needs to move descriptors.
    #[error("descriptor {fd} is above what the sandbox can open: the open-files limit is {limit}, so pass it below {}; or raise RLIMIT_NOFILE", limit.saturating_sub(1))]
    FdTargetTooHigh {
        /// The target number.
        fd: i32,
        /// The soft RLIMIT_NOFILE the child runs with.
        limit: u64,
    },
    /// An environment variable whose name the program could not read back.
    #[error("environment variable name {key:?} is {}; names must be non-empty and contain no `=`", if key.is_empty() { "empty" } else { "holding `=`" })]
    EnvKey {
        /// The name given.
        key: OsString,
    },
    /// An empty hostname or domain name (the kernel would accept it, and programs would
    /// then find no name at all).
    #[error("the {what} is empty; give a name, or leave it unset to keep the default")]
    EmptyName {
        /// `hostname` or `domain name`.
        what: &'static str,
    },
    /// Two descriptors passed at the same number.
    #[error("descriptor {fd} is passed to the sandbox twice")]
    DuplicateFd {
        /// The target number.
        fd: i32,
    },
    /// A feature the running kernel is too old for.
    #[error("{feature} needs Linux {}.{} or later; this kernel is {}", needs.0, needs.1, found.map_or("of unknown version".to_string(), |(a, b)| format!("{a}.{b}")))]
    KernelTooOld {
        /// The feature.
        feature: &'static str,
        /// The version it needs (major, minor).
        needs: (u32, u32),
        /// The running kernel's version, if it could be read.
        found: Option<(u32, u32)>,
    },
    /// A resource limit that cannot work.
    #[error("invalid limit: {0}")]
    Limit(#[from] LimitError),
    /// A command whose arguments and environment would not fit under the memory limit
    /// together with the sandbox's setup (exec copies them before the child's memory is its
    /// own).
    #[error("the command's arguments and environment take {bytes} bytes; with the sandbox's setup they need a memory limit of at least {needed} bytes, not {limit}: raise memory_max/memory_high or shorten them")]
    CommandTooLargeForMemoryLimit {
        /// Bytes of arguments and environment, with their pointers.
        bytes: u64,
        /// The tighter of memory max and memory high.
        limit: u64,
        /// What this command needs.
        needed: u64,
    },
    /// A descriptor number so high that the child's descriptor table, grown to hold it before
    /// exec, would not fit under the memory limit together with the sandbox's setup.
    #[error("descriptor {fd} makes the child's descriptor table grow before exec; with the sandbox's setup that needs a memory limit of at least {needed} bytes, not {limit}: pass the descriptor as a lower number or raise memory_max/memory_high")]
    DescriptorTooHighForMemoryLimit {
        /// The highest descriptor number the child uses.
        fd: i32,
        /// The tighter of memory max and memory high.
        limit: u64,
        /// What this spawn needs.
        needed: u64,
    },
    /// A mount target with a `..` component: targets name a place inside the sandbox, and
    /// `..` could only lead out of it.
    #[error("{mount}: the target has a `..` component; write the path inside the sandbox without it")]
    ParentDirInTarget {
        /// The mount.
        mount: Mount,
    },
    /// A path with a `..` component where it is joined under a directory of isobox's choosing
    /// (a cgroup parent under each hierarchy's mount point): `..` could only lead out of it.
    #[error("{what} {path:?} has a `..` component, which could lead out of where it is joined; write it without")]
    ParentDirInPath {
        /// Which path.
        what: &'static str,
        /// The path given.
        path: PathBuf,
    },
    /// A root caller without CAP_SETPCAP in its effective set and without a user namespace:
    /// the program's bounding set could not be emptied.
    #[error("the program's capability bounding set cannot be emptied: this root caller lacks CAP_SETPCAP (effective); add Namespaces::USER, or give the caller CAP_SETPCAP")]
    BoundingSetNotDroppable,
    /// A mount onto `/` itself, which would hide the root isobox builds and every mount
    /// after it.
    #[error("{mount}: a mount cannot go on / itself; give a root of your own with rootfs(dir)")]
    TargetIsRoot {
        /// The mount.
        mount: Mount,
    },
    /// A tmpfs of size 0, which tmpfs would read as no limit at all.
    #[error("{mount}: a size of 0 would mean no limit to tmpfs")]
    TmpfsSizeZero {
        /// The mount.
        mount: Mount,
    },
    /// `Mount::size` or `Mount::mode` on a mount that is not a tmpfs (or `noexec`, `nosuid`
    /// on one that is neither a tmpfs nor a bind, `source_name` on one that is no new
    /// filesystem).
    #[error("{option} does not apply to {mount}")]
    TmpfsOption {
        /// `size`, `mode`, `noexec`, `nosuid` or `source_name`.
        option: &'static str,
        /// The mount.
        mount: Mount,
    },
    /// A command with an empty program name.
    #[error("the program name is empty")]
    EmptyProgram,
    /// A Landlock ruleset this kernel cannot enforce as asked (feature `landlock`).
    #[cfg(feature = "landlock")]
    #[error(transparent)]
    Landlock(#[from] LandlockError),
    /// Ambient capabilities that are not also kept.
    #[error("ambient {capabilities} must also be kept (SandboxBuilder::capabilities)")]
    AmbientNotKept {
        /// The ambient capabilities missing from the kept set.
        capabilities: Capabilities,
    },
    /// Capabilities to keep that the running kernel does not know: kept, they would be
    /// silently missing.
    #[error("{capabilities} unknown to this kernel, whose last capability is number {last_cap}")]
    UnknownCapability {
        /// The capabilities past the kernel's last.
        capabilities: Capabilities,
        /// The kernel's last capability number (/proc/sys/kernel/cap_last_cap).
        last_cap: u32,
    },
    /// Capabilities to keep that the caller does not hold, without a user namespace (where
    /// the sandbox holds only the caller's own).
    #[error("{capabilities} cannot be kept: without a user namespace the sandbox holds only the calling thread's capabilities (permitted and bounding), and these are not among them. Hint: add Namespaces::USER, or run with these capabilities")]
    CapabilityNotHeld {
        /// The capabilities the caller lacks.
        capabilities: Capabilities,
    },
    /// `Mount::device_node` of a character or block device in a user namespace, where mknod
    /// is not allowed.
    #[error("{mount}: a device node needs CAP_MKNOD on the host, which a user namespace does not give: bind the host's node with Mount::dev_bind, or run as root without Namespaces::USER")]
    DeviceNodeInUserNamespace {
        /// The mount.
        mount: Mount,
    },
    /// A `SandboxBuilder::sysctl` that is not a setting of the sandbox's own namespaces.
    #[error("sysctl {key:?}: {why}")]
    Sysctl {
        /// The key given.
        key: String,
        /// Why it is refused.
        why: &'static str,
    },
    /// `SandboxBuilder::cgroup_name` that is not one directory name.
    #[error("cgroup name {name:?} must be one directory name: not empty, no '/', not '.' or '..', no NUL, at most 255 bytes")]
    CgroupName {
        /// The name given.
        name: String,
    },
    /// A seccomp filter that cannot work.
    #[error("seccomp: {0}")]
    Seccomp(#[from] SeccompError),
    /// An overlay root that cannot work (at `build()`), or whose upper directory a spawn could
    /// not make.
    #[error(transparent)]
    Overlay(#[from] OverlayError),
    /// An image whose config cannot be run as it says (its `User` or `Env`).
    #[error(transparent)]
    Image(#[from] ImageRunError),
    /// A network mode that cannot work (a veth's addresses, a veth without root).
    #[error(transparent)]
    Network(#[from] NetworkConfigError),
}

impl From<PlanError> for ConfigError {
    fn from(e: PlanError) -> ConfigError {
        match e {
            PlanError::Limit(e) => ConfigError::Limit(e),
            PlanError::Parent(path) if path.as_os_str().as_encoded_bytes().contains(&0) => {
                ConfigError::NulByte { what: "cgroup parent".into() }
            }
            PlanError::Parent(path) => ConfigError::RelativePath { what: "cgroup parent", path },
            PlanError::ParentDir(path) => ConfigError::ParentDirInPath { what: "cgroup parent", path },
            PlanError::Layout { path, source } => ConfigError::Path { what: "cgroup layout file", path, source },
            PlanError::Name(name) => ConfigError::CgroupName { name },
        }
    }
}

/// "Namespaces::UTS", or "Namespaces::USER | Namespaces::PID".
fn namespaces_text(ns: Namespaces) -> String {
    ns.iter_names().map(|(name, _)| format!("Namespaces::{name}")).collect::<Vec<_>>().join(" | ")
}

/// A failure in the parent while starting the child.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// The clone itself failed (namespace creation problems show up here).
    #[error("creating the sandbox process with namespaces {namespaces:?}: {errno}{}", hint::suffix(*hint))]
    Clone {
        /// The namespaces asked for.
        namespaces: Namespaces,
        /// The kernel's error.
        errno: Errno,
        /// What to do about it, where the host is the likely cause.
        hint: Option<&'static str>,
    },
    /// Writing a /proc/PID id map file failed.
    #[error("writing {file:?}: {source}{}", hint::suffix(*hint))]
    IdMap {
        /// The file.
        file: PathBuf,
        /// The write's error.
        source: io::Error,
        /// What to do about it.
        hint: Option<&'static str>,
    },
    /// newuidmap or newgidmap could not be run.
    #[error("running {helper} for subordinate ids: {source} (install the uidmap package, which provides newuidmap and newgidmap)")]
    IdMapHelperMissing {
        /// `newuidmap` or `newgidmap`.
        helper: &'static str,
        /// The error running it.
        source: io::Error,
    },
    /// newuidmap or newgidmap refused the map.
    #[error("{helper} failed ({status}): {stderr}")]
    IdMapHelperFailed {
        /// `newuidmap` or `newgidmap`.
        helper: &'static str,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// What it printed.
        stderr: String,
    },
    /// Copying the sandbox process's seccomp listener (notify rules) with pidfd_getfd failed.
    #[error("taking the seccomp listener (descriptor {fd} of the sandbox process) with pidfd_getfd: {errno}{}", hint::suffix(*hint))]
    TakeListener {
        /// The listener's number in the sandbox process.
        fd: i32,
        /// The kernel's error.
        errno: Errno,
        /// What to do about it, where the host is the likely cause.
        hint: Option<&'static str>,
    },
    /// A system call of the parent's own failed.
    #[error("{what}: {source}")]
    Io {
        /// What the parent was doing.
        what: &'static str,
        /// The error.
        source: io::Error,
    },
    /// The child wrote something that is not a failure record.
    #[error("the sandbox process sent a malformed setup report ({len} bytes)")]
    MalformedReport {
        /// How many bytes it wrote.
        len: usize,
    },
}

impl SpawnError {
    pub(crate) fn io(what: &'static str) -> impl FnOnce(io::Error) -> SpawnError {
        move |source| SpawnError::Io { what, source }
    }
}
