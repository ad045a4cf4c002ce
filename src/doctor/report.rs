//! The doctor's report (**parent**): one [`Finding`] per thing checked, each with its state,
//! what was seen (an errno, a knob and its value, a spawn's typed error) and the fix.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use nix::errno::Errno;

use crate::error::Error;
use crate::namespaces::Namespaces;
use crate::net::usermode::error::UserNetError;
use crate::net::usermode::spec::UserNetHelper;

/// What [`doctor`](crate::doctor) found on this host, in the order of its checks.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DoctorReport {
    /// One entry per check.
    pub findings: Vec<Finding>,
    /// How long the checks took.
    pub elapsed: Duration,
}

impl DoctorReport {
    /// The finding of `check`, if it was made.
    #[must_use]
    pub fn get(&self, check: Check) -> Option<&Finding> {
        self.findings.iter().find(|f| f.check == check)
    }

    /// The state of `check` (`Unknown` if it was not made).
    #[must_use]
    pub fn state(&self, check: Check) -> CheckState {
        self.get(check).map_or(CheckState::Unknown, |f| f.state)
    }

    /// The findings that are not [`CheckState::Works`].
    pub fn problems(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.state != CheckState::Works)
    }
}

/// One thing checked: what it is, its state, what was seen, and what to do.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Finding {
    /// What was checked.
    pub check: Check,
    /// Whether it works.
    pub state: CheckState,
    /// What the check saw: the errno, knob, version or error behind the state.
    pub detail: Detail,
    /// What a person can do about it; `None` where nothing needs doing.
    pub fix: Option<String>,
}

/// Whether a check's feature is usable by this caller on this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CheckState {
    /// It works as isobox uses it.
    Works,
    /// The kernel or the host lacks it (not built in, not installed, too old).
    Missing,
    /// It exists, but a policy refuses it to this caller (a sysctl, a seccomp filter, a mode).
    Forbidden,
    /// It is there for this caller, but spawns use it only once the caller does what the
    /// fix says (a delegated v2 cgroup is used only when passed to `cgroup_parent()`).
    NeedsSetup,
    /// The check could not tell.
    Unknown,
}

/// What the doctor checks, in the order of its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Check {
    /// The kernel's release.
    Kernel,
    /// clone3(2), which spawns prefer (Linux 5.3; else clone(2)).
    Clone3,
    /// `CLONE_INTO_CGROUP`: a child born in its cgroup on cgroup v2 (Linux 5.7).
    CloneIntoCgroup,
    /// pidfds (`pidfd_open`, `CLONE_PIDFD`): waiting and signalling without pid reuse (5.3).
    Pidfd,
    /// close_range(2): closing the child's descriptors in one call (5.9).
    CloseRange,
    /// mount_setattr(2): read-only and other flags on detached mounts (5.12).
    MountSetattr,
    /// openat2(2) with `RESOLVE_IN_ROOT`: mount targets resolved inside the new root (5.6).
    Openat2,
    /// The new mount API: fsopen, fsmount, open_tree, move_mount (5.2).
    MountApi,
    /// Time namespaces entered at exec (Linux 6.2).
    TimeNamespace,
    /// overlayfs mounted inside a user namespace (5.11): overlay roots and images.
    OverlayInUserNamespace,
    /// seccomp filters.
    Seccomp,
    /// seccomp user notification (notify rules, `SECCOMP_RET_USER_NOTIF`).
    SeccompUserNotification,
    /// The Landlock ABI.
    Landlock,
    /// User namespaces, for this caller: a spawn with `Namespaces::USER`.
    UserNamespaces,
    /// The host's policy for unprivileged user namespaces (its sysctl knobs).
    UnprivilegedUserNamespaces,
    /// The cgroup layout: v1, v2 or hybrid.
    CgroupLayout,
    /// The cgroup controllers available.
    CgroupControllers,
    /// Whether the caller may create cgroups (root, or a delegated v2 subtree).
    CgroupDelegation,
    /// The caller's subordinate uids (/etc/subuid), for `UserMapping::Subordinate`.
    SubordinateUids,
    /// The caller's subordinate gids (/etc/subgid).
    SubordinateGids,
    /// newuidmap, setuid or with file capabilities.
    Newuidmap,
    /// newgidmap, setuid or with file capabilities.
    Newgidmap,
    /// pasta (package passt), a user-mode networking helper.
    Pasta,
    /// slirp4netns, a user-mode networking helper.
    Slirp4netns,
    /// /dev/net/tun, which both helpers open.
    Tun,
    /// `Network::UserMode`: a helper that runs and a usable /dev/net/tun.
    UserModeNetworking,
}

/// A sysctl knob and its value as read (`None`: the file is absent, the kernel lacks the knob).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Knob {
    /// The sysctl's name (`kernel.unprivileged_userns_clone`).
    pub name: &'static str,
    /// Its value, trimmed.
    pub value: Option<String>,
}

/// The cgroup hierarchies' arrangement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CgroupLayoutKind {
    /// Only the unified hierarchy (v2).
    V2,
    /// Controllers on v1 hierarchies, with a unified mount beside them.
    Hybrid,
    /// Only v1 hierarchies.
    V1,
    /// No cgroup filesystem mounted.
    None,
}

/// What makes newuidmap or newgidmap able to write maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HelperPrivilege {
    /// Owned by root with the setuid bit.
    Setuid,
    /// A `security.capability` extended attribute (file capabilities).
    FileCapabilities,
    /// Neither: it cannot write another user's ranges.
    None,
}

/// What a user-mode networking helper's `--version` gave.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum HelperRun {
    /// It ran; its first line.
    Version(String),
    /// It is missing, failed or is too old: the error a spawn would get.
    Failed(Arc<UserNetError>),
    /// It did not answer within the doctor's time.
    TimedOut(Duration),
}

/// What a check saw.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Detail {
    /// The kernel's release, and its (major, minor) as isobox reads it.
    Kernel {
        /// `uname -r`.
        release: String,
        /// Parsed, if it could be.
        version: Option<(u32, u32)>,
    },
    /// A system call's answer (`None`: it worked).
    Syscall {
        /// The call.
        call: &'static str,
        /// Its errno.
        errno: Option<Errno>,
    },
    /// The call exists but needs privilege over the mount namespace, which isobox's own user
    /// namespace gives it.
    InUserNamespaceOnly {
        /// The call.
        call: &'static str,
        /// Its errno here (EPERM).
        errno: Errno,
    },
    /// A probe spawn isobox made with these namespaces, and its typed error if it failed.
    Spawn {
        /// The namespaces it asked for.
        namespaces: Namespaces,
        /// Why it failed, if it did.
        error: Option<Arc<Error>>,
    },
    /// The sysctl knobs behind a policy.
    Knobs(Vec<Knob>),
    /// Landlock's ABI: the kernel's answer and the one isobox's rulesets use.
    Landlock {
        /// The kernel's ABI, or its errno (ENOSYS: not built; EOPNOTSUPP: not enabled at boot).
        kernel: Result<u32, Errno>,
        /// `min(kernel, Landlock::NEWEST_ABI)`; `None` without the feature `landlock`.
        used: Option<u32>,
    },
    /// A file the check needed could not be read.
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        errno: Errno,
    },
    /// The cgroup hierarchies and where they are mounted.
    CgroupLayout {
        /// Their arrangement.
        kind: CgroupLayoutKind,
        /// The unified hierarchy's mount.
        unified: Option<PathBuf>,
        /// The v1 hierarchies' mounts.
        v1: Vec<PathBuf>,
    },
    /// The controllers each version offers, and those isobox uses that none offers.
    Controllers {
        /// Bound to v1 hierarchies.
        v1: Vec<String>,
        /// In the unified hierarchy's root `cgroup.controllers`.
        v2: Vec<String>,
        /// isobox's controllers that neither offers.
        missing: Vec<&'static str>,
    },
    /// Where the caller's cgroups would go and what it may do there.
    Delegation {
        /// The directory checked: the caller's own cgroup (non-root) or a hierarchy's root.
        dir: Option<PathBuf>,
        /// Whether the caller may write it.
        writable: bool,
        /// Its `cgroup.subtree_control` (v2).
        subtree_control: Vec<String>,
    },
    /// The caller's subordinate ranges in /etc/subuid or /etc/subgid.
    SubordinateIds {
        /// The file.
        file: &'static str,
        /// The caller's name (or uid).
        user: String,
        /// (first id, count) of each range.
        ranges: Vec<(u32, u32)>,
        /// Why the file could not be read, if it could not.
        errno: Option<Errno>,
    },
    /// An id-map helper found in PATH, and what lets it write maps.
    IdMapHelper {
        /// Its path, `None` when not found.
        path: Option<PathBuf>,
        /// Setuid, file capabilities, or none.
        privilege: HelperPrivilege,
    },
    /// A user-mode networking helper and its `--version`.
    UserNetHelper {
        /// Which.
        helper: UserNetHelper,
        /// What running it gave.
        run: HelperRun,
    },
    /// A device opened for reading and writing (`None`: it opened).
    Device {
        /// Its path.
        path: &'static str,
        /// Its errno.
        errno: Option<Errno>,
    },
    /// What user-mode networking has here: the helpers that run, and whether tun opens.
    UserNet {
        /// Helpers whose `--version` worked.
        helpers: Vec<UserNetHelper>,
        /// Whether /dev/net/tun is a character device this caller may read and write.
        tun: bool,
    },
}
