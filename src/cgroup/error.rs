//! The cgroup layer's errors (**parent**): limits refused at `build()` ([`LimitError`], and
//! [`PlanError`] for the rest of the plan) and cgroups that could not be set up, enforced,
//! read or removed ([`CgroupError`]), each with the file and errno, and a hint where the host
//! is the likely cause. The crate's `error` module rolls them up.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::cpulist::CpuList;
use crate::hint;

/// A cgroup that could not be set up, enforced, read or removed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CgroupError {
    /// The host has no hierarchy offering a controller a limit needs.
    #[error("cgroup controller {controller} is not available to {parent:?} on this host ({hint})")]
    ControllerMissing {
        /// The controller's cgroup v2 name (`memory`, `pids`, `cpu`, `cpuset`, `io`).
        controller: &'static str,
        /// The parent cgroup the sandbox's cgroup was to go in.
        parent: PathBuf,
        /// What to do about it.
        hint: &'static str,
    },
    /// The limit exists on the other cgroup version only.
    #[error("{limit} cannot be enforced on cgroup {version}: {reason}")]
    Unsupported {
        /// The limit (`memory high`, …).
        limit: &'static str,
        /// The host's cgroup version for this controller (`v1`).
        version: &'static str,
        /// Why not.
        reason: &'static str,
    },
    /// No cgroup the caller may create sandbox cgroups in.
    #[error("no cgroup to put sandboxes in: {reason}. Hint: {hint}")]
    NoDelegation {
        /// Why the caller has none.
        reason: NoDelegationReason,
        /// What to do about it.
        hint: &'static str,
    },
    /// mkdir of a cgroup directory failed.
    #[error("creating cgroup {path:?}: {source}{}", hint::suffix(*hint))]
    Create {
        /// The directory.
        path: PathBuf,
        /// The mkdir's error.
        source: io::Error,
        /// What to do about it, where the host is the likely cause.
        hint: Option<&'static str>,
    },
    /// Writing a limit (or a controller's enabling) failed.
    #[error("{limit}: writing {value:?} to {path:?}: {source}{}", hint::suffix(*hint))]
    Write {
        /// The limit being written.
        limit: &'static str,
        /// The file written.
        path: PathBuf,
        /// The text written.
        value: String,
        /// The write's error.
        source: io::Error,
        /// What to do about it, where the host is the likely cause.
        hint: Option<&'static str>,
    },
    /// The kernel took the write but applied something else.
    #[error("{limit}: wrote {value:?}, but {path:?} reads {read:?}: the kernel did not take the limit as asked")]
    ReadBack {
        /// The limit written.
        limit: &'static str,
        /// The file read back: the one written, or where the kernel shows what it applied
        /// (v2 `cpuset.cpus.effective`).
        path: PathBuf,
        /// The text written.
        value: String,
        /// What the file reads.
        read: String,
    },
    /// A cgroup file could not be read.
    #[error("{what}: reading {path:?}: {source}")]
    Read {
        /// What the read was for.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The read's error.
        source: io::Error,
    },
    /// Moving the sandbox's process into its cgroup failed (or, before a process existed,
    /// opening the directory it was to join through).
    #[error("moving {} into {path:?}: {source}{}", pid.map_or("the sandbox".to_string(), |p| format!("process {p}")), hint::suffix(*hint))]
    Place {
        /// The `cgroup.procs` file written, or the directory opened.
        path: PathBuf,
        /// The process moved; `None` when the failure came before there was one.
        pid: Option<i32>,
        /// The write's (or open's) error.
        source: io::Error,
        /// What to do about it, where the host is the likely cause.
        hint: Option<&'static str>,
    },
    /// A cgroup directory could not be removed.
    #[error("removing cgroup {path:?}: {source}{}", hint::suffix(*hint))]
    Remove {
        /// The directory.
        path: PathBuf,
        /// The last rmdir's error.
        source: io::Error,
        /// What to do about it, where the host is the likely cause.
        hint: Option<&'static str>,
    },
}

/// Why an unprivileged caller has no cgroup for sandboxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoDelegationReason {
    /// On cgroup v2, no `cgroup_parent()` was given: the caller's own cgroup cannot hand
    /// controllers to children while the caller is in it.
    NoParentGiven,
    /// The host has cgroup v1 hierarchies, which cannot be delegated to a user safely.
    CgroupV1,
}

impl fmt::Display for NoDelegationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NoDelegationReason::NoParentGiven => {
                "an unprivileged caller must pass a delegated cgroup with no processes of its own to \
                 cgroup_parent() (its own cgroup cannot hand controllers to children while the caller is in it)"
            }
            NoDelegationReason::CgroupV1 => "cgroup v1 cannot be delegated to an unprivileged user safely",
        })
    }
}

/// A resource limit `build()` refuses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// Zero would stop the sandbox (memory max, memory high, pids max).
    #[error("{limit} must be above zero")]
    Zero {
        /// The limit.
        limit: &'static str,
    },
    /// A weight outside the kernel's range.
    #[error("{limit} {value} is outside {min}..={max}")]
    OutOfRange {
        /// The limit (`cpu weight`, `io weight`).
        limit: &'static str,
        /// The value given.
        value: u64,
        /// The lowest value allowed.
        min: u64,
        /// The highest value allowed.
        max: u64,
    },
    /// Not a finite number of CPUs of at least 0.01 (and at most 10⁷).
    #[error("cpu max {cpus} CPUs: needs a finite number of at least 0.01")]
    CpuMax {
        /// The number of CPUs given.
        cpus: f64,
    },
    /// A memory max or high below what isobox's own setup needs before exec. Until exec the
    /// child shares the caller's memory, so an OOM kill then would kill the caller too.
    #[error("{limit} of {bytes} bytes is below the {floor} bytes the sandbox's setup needs before exec (more with more mounts); ask for at least that")]
    MemoryBelowFloor {
        /// `memory max` or `memory high`.
        limit: &'static str,
        /// The value given.
        bytes: u64,
        /// The least this sandbox accepts.
        floor: u64,
    },
    /// A CPU quota above the CPUs the host has online, which could never apply.
    #[error("cpu max {cpus} CPUs is more than the host's {} online CPUs ({online}); ask for at most that many, or none", online.len())]
    CpuMaxAboveHost {
        /// The number of CPUs given.
        cpus: f64,
        /// The CPUs online.
        online: CpuList,
    },
    /// `cpu_max_burst` without `cpu_max`: a burst is quota saved up, and there is none.
    #[error("a cpu max burst ({burst:?}) needs cpu_max too")]
    BurstWithoutCpuMax {
        /// The burst asked for.
        burst: std::time::Duration,
    },
    /// A CFS period outside the kernel's 1 ms to 1 s, or one without a cpu max.
    #[error("cpu max period {period:?} must be 1 ms to 1 s, with a cpu_max to enforce over it")]
    CpuPeriod {
        /// The period asked for.
        period: std::time::Duration,
    },
    /// A burst of less than a microsecond, or above the quota per period (the kernel refuses
    /// a burst larger than the quota).
    #[error("cpu max burst {burst:?} is outside 1 µs up to the quota of {quota_us} µs per period: lower it or raise cpu_max")]
    BurstOutOfRange {
        /// The burst asked for.
        burst: std::time::Duration,
        /// The quota per 100 ms period that cpu_max gives, in microseconds.
        quota_us: u64,
    },
    /// `memory_swap_max` without `memory_max`.
    #[error("memory+swap max needs memory_max too")]
    SwapWithoutMemoryMax,
    /// Memory plus swap below memory alone.
    #[error("memory+swap max {total} is below memory max {memory}")]
    SwapBelowMemory {
        /// Memory plus swap, in bytes.
        total: u64,
        /// Memory, in bytes.
        memory: u64,
    },
    /// A CPU or memory-node list that does not parse.
    #[error("{limit}: cannot parse {text:?} (write a list like \"0-3,8\")")]
    CpuListSyntax {
        /// `cpuset cpus` or `cpuset mems`.
        limit: &'static str,
        /// The text given.
        text: String,
    },
    /// An empty list, or one naming CPUs or nodes the host does not have online.
    #[error("{limit} {list} is empty or outside the host's {online}")]
    CpuListOutsideHost {
        /// `cpuset cpus` or `cpuset mems`.
        limit: &'static str,
        /// The list given.
        list: CpuList,
        /// What the host has online.
        online: CpuList,
    },
    /// An io limit's device cannot be looked at.
    #[error("io limit: {}: {errno}", device.display())]
    DeviceUnusable {
        /// The path given.
        device: PathBuf,
        /// Why stat(2) failed.
        errno: nix::errno::Errno,
    },
    /// An io limit's path is not a block device.
    #[error("io limit: {} is not a block device", device.display())]
    NotABlockDevice {
        /// The path given.
        device: PathBuf,
    },
    /// An io limit with no rate limits nothing.
    #[error("io limit for {}: no rate given, so nothing would be limited", device.display())]
    NoIoRate {
        /// The device.
        device: PathBuf,
    },
    /// A rate of 0 would stop all IO on the device.
    #[error("io limit for {}: a rate of 0 would stop all IO", device.display())]
    ZeroIoRate {
        /// The device.
        device: PathBuf,
    },
}

/// Why `build()` could not plan a sandbox's cgroup (rolled up into `ConfigError`).
#[derive(Debug)]
pub(crate) enum PlanError {
    /// A limit that cannot work.
    Limit(LimitError),
    /// The cgroup parent is not an absolute path, or holds a NUL byte.
    Parent(PathBuf),
    /// The cgroup parent has a `..` component, which could lead out of the hierarchy.
    ParentDir(PathBuf),
    /// A file describing the host's cgroup layout could not be read.
    Layout { path: PathBuf, source: io::Error },
    /// A cgroup name that is not one path component.
    Name(String),
}

impl From<LimitError> for PlanError {
    fn from(e: LimitError) -> PlanError {
        PlanError::Limit(e)
    }
}

/// A failed mkdir of `path`, with a hint when permissions are the likely cause.
pub(crate) fn create_error(path: &Path, source: io::Error) -> CgroupError {
    let hint = matches!(source.raw_os_error(), Some(libc::EACCES | libc::EPERM | libc::EROFS))
        .then_some("creating cgroups needs root or a delegated subtree the caller owns (set cgroup_parent to it)");
    CgroupError::Create { path: path.to_path_buf(), source, hint }
}

/// A failed move of `pid` (if there was one yet) into `path`, with the likely cause.
pub(crate) fn place_error(path: PathBuf, pid: Option<i32>, source: io::Error) -> CgroupError {
    let hint = match source.raw_os_error() {
        Some(libc::EACCES | libc::EPERM) => Some(
            "moving a process needs root, or write access to cgroup.procs of the common ancestor of the \
             process's cgroup and the target (on v2: a delegated subtree the caller owns, with the caller \
             inside it); a security module may deny it too",
        ),
        Some(libc::EBUSY) => Some(
            "on cgroup v2 a cgroup that hands controllers to children (cgroup.subtree_control) takes no \
             process of its own (the no-internal-process rule): was a controller enabled in the sandbox's cgroup?",
        ),
        Some(libc::ENOSPC) => Some("a cpuset cgroup takes no process until cpuset.cpus and cpuset.mems are set"),
        Some(libc::ENOENT) => Some("the cgroup was removed meanwhile (by another process, or its sandbox ended)"),
        Some(libc::ESRCH) => Some("the process ended before it could be moved"),
        Some(libc::EOPNOTSUPP) => {
            Some("on cgroup v2 the target is a threaded or invalid domain (see its cgroup.type): choose another parent")
        }
        _ => None,
    };
    CgroupError::Place { path, pid, source, hint }
}

/// A failed rmdir of `path`, with the likely cause.
pub(crate) fn remove_error(path: PathBuf, source: io::Error) -> CgroupError {
    let hint = match source.raw_os_error() {
        Some(libc::EBUSY | libc::ENOTEMPTY) => Some(
            "processes are left in it that SIGKILL did not end (stuck in the kernel, in uninterruptible \
             sleep) or that were moved in from outside, or it holds child cgroups (a sandbox given its own \
             cgroup subtree may make some): it is retried when the Child is dropped",
        ),
        Some(libc::EACCES | libc::EPERM | libc::EROFS) => {
            Some("the caller may not remove it: its parent must be the caller's (root, or a delegated subtree it owns)")
        }
        _ => None,
    };
    CgroupError::Remove { path, source, hint }
}
