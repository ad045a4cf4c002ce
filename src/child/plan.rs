//! What the child reads, in two halves (**parent** prepares, **child** reads): [`ChildSetup`],
//! fixed by the `Sandbox` at `build()` and borrowed by every spawn, and [`ChildLaunch`], what
//! one spawn adds. A prewarmed pool or an async spawner reuses both.

use std::ffi::CString;
use std::os::fd::RawFd;

use crate::caps::plan::CapsPlan;
use crate::cgroup::join::JoinFile;
#[cfg(feature = "landlock")]
use crate::landlock::plan::LandlockPlan;
use crate::mount::plan::MountPlan;
use crate::net::plan::NetPlan;
use crate::rlimit::plan::RlimitPlan;
use crate::seccomp::plan::SeccompPlan;
use crate::sys::vfork::ProgramStack;
use crate::sys::CStrArray;
use crate::time::plan::TimePlan;
use crate::user::ids::Ids;
use crate::uts::plan::UtsPlan;

/// What every spawn of a `Sandbox` does the same way, compiled once at `build()`.
#[derive(Debug, Clone)]
pub(crate) struct ChildSetup {
    pub die_with_parent: bool,
    /// The ids (inside) the child sets up as, once its user namespace's maps are written.
    pub setup_ids: Option<(u32, u32)>,
    pub time: TimePlan,
    /// The mount plan; empty without a mount namespace.
    pub mounts: MountPlan,
    pub uts: UtsPlan,
    pub net: NetPlan,
    /// Kernel settings of the sandbox's namespaces, written before the mounts.
    pub sysctl: crate::sysctl::SysctlPlan,
    pub rlimits: RlimitPlan,
    /// CLONE_NEWCGROUP or 0, unshared once the child is in its cgroup.
    pub unshare_cgroup: i32,
    /// setsid, so the program has no controlling terminal of the caller's.
    pub new_session: bool,
    /// What the child drops, keeps and raises of its capabilities.
    pub caps: CapsPlan,
    pub no_new_privs: bool,
    /// The Landlock ruleset the child makes and restricts itself with; `None` without one.
    #[cfg(feature = "landlock")]
    pub landlock: Option<LandlockPlan>,
    /// The system-call filter installed last before exec; an empty program for none.
    pub seccomp: SeccompPlan,
    /// With a pid namespace: the first process becomes isobox's init and the program runs
    /// beside it (`child::init`).
    pub init: bool,
}

/// One command made ready for exec: what the child switches to and executes.
#[derive(Debug)]
pub(crate) struct ExecPlan {
    pub argv: CStrArray,
    pub envp: CStrArray,
    /// Paths to try in order (the PATH lookup was done by the parent).
    pub candidates: Vec<CString>,
    pub cwd: Option<CString>,
    pub ids: Ids,
    /// (source, target) descriptor pairs: stdio and passed descriptors.
    pub fd_moves: Vec<(RawFd, RawFd)>,
}

/// The control pipes' descriptors as the child sees them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ControlFds {
    pub go_read: RawFd,
    /// The parent's end, which the child closes first.
    pub go_write: RawFd,
    /// The parent's end, which the child closes first.
    pub report_read: RawFd,
    pub report_write: RawFd,
}

/// What one spawn adds to the sandbox's fixed setup.
#[derive(Debug)]
pub(crate) struct ChildLaunch<'a> {
    pub exec: &'a ExecPlan,
    pub control: ControlFds,
    /// A descriptor number above every source, target and control descriptor.
    pub fd_scratch: RawFd,
    /// The descriptors the child keeps once its own are arranged, ascending: the targets and
    /// the control pipes' ends it still uses; it closes every other one (the caller's copies).
    pub fd_keep: Vec<RawFd>,
    /// The parent makes the child's cgroup while it sets up (hosts with cgroup v1): wait for a
    /// second go byte, then join it through `cgroup_join`, before entering the cgroup namespace.
    pub second_release: bool,
    pub cgroup_join: &'a [JoinFile],
    /// With seccomp notify rules: this spawn's filter (its prologue names these pipes), which
    /// the child installs with a listener and hands over before exec, waiting for one more go.
    pub seccomp_program: Option<&'a [libc::sock_filter]>,
    /// With isobox's init: what the first process needs to start the program and become it.
    pub init: Option<InitLaunch>,
    /// A pooled sandbox: the program is isobox's waiter, which takes the command later.
    pub waiter: Option<WaiterLaunch>,
    /// An overlay root with a directory upper: this spawn's own directory on the host.
    pub overlay_upper: Option<&'a std::ffi::CStr>,
}

/// What a pooled sandbox's program needs to become isobox's waiter (see `pool`).
#[derive(Debug)]
pub(crate) struct WaiterLaunch {
    /// isobox's program (the init's executable, in its waiter role).
    pub exe: RawFd,
    /// The child's end of the pool's socket, kept over the exec.
    pub sock: RawFd,
    /// `sock` in decimal, NUL-terminated.
    pub sock_digits: [u8; 12],
    /// The sandbox will only be held open for a command beside it: with an init, the init
    /// holds it itself and there is no program (`child::init`); without one, the program,
    /// pid 1, is the waiter that holds it.
    pub holds: bool,
}

/// What one spawn gives the first process to become isobox's init (see `child::init`).
#[derive(Debug)]
pub(crate) struct InitLaunch {
    /// The init's executable (a sealed memfd).
    pub exe: RawFd,
    /// The status pipe's write end, which the init keeps.
    pub status_write: RawFd,
    /// `status_write` in decimal, NUL-terminated: the init's second argument.
    pub status_digits: [u8; 12],
    /// The hand-over pipe (read end, write end): the program closes its copy of the write
    /// end and reads until EOF, which comes when the init closes the first process's copy
    /// (kept over the exec), once it is not dumpable and filtered, or at its exit.
    pub left: (RawFd, RawFd),
    /// The program's stack.
    pub stack: ProgramStack,
    /// With a seccomp listener to hand over: the first process keeps a pidfd of the program,
    /// through which the parent takes the listener from the program.
    pub program_pidfd: bool,
    /// What the first process keeps when it becomes the init, ascending (and the program's
    /// pidfd, wherever the kernel put it, or the pool's socket for a holder): the write end of
    /// `left` over the exec for the init, to its exec for a holder.
    pub keep: [RawFd; 4],
}

impl<'a> ChildLaunch<'a> {
    /// The launch of `exec` with these control pipes and cgroup join files.
    pub fn new(exec: &'a ExecPlan, control: ControlFds, second_release: bool, cgroup_join: &'a [JoinFile]) -> Self {
        let ControlFds { go_read, go_write, report_read, report_write } = control;
        let control_fds = [go_read, go_write, report_read, report_write];
        let highest = exec.fd_moves.iter().flat_map(|(s, d)| [*s, *d]).chain(control_fds).max().unwrap_or(2);
        // Saturating: a target of i32::MAX leaves no room, and the child's dup3 then fails (EBADF).
        let mut fd_keep: Vec<RawFd> =
            exec.fd_moves.iter().map(|(_, dst)| *dst).chain([go_read, report_write]).collect();
        fd_keep.sort_unstable();
        fd_keep.dedup();
        ChildLaunch {
            exec,
            control,
            fd_scratch: highest.saturating_add(1),
            fd_keep,
            second_release,
            cgroup_join,
            seccomp_program: None,
            init: None,
            waiter: None,
            overlay_upper: None,
        }
    }

    /// A pooled sandbox: its program becomes isobox's waiter on `sock`. Its descriptors are
    /// kept through the arrangement and the scratch numbers start above them.
    pub fn with_waiter(mut self, exe: RawFd, sock: RawFd, holds: bool) -> Self {
        self.keep_fds([exe, sock]);
        self.waiter = Some(WaiterLaunch { exe, sock, sock_digits: decimal(sock), holds });
        self
    }

    /// Keeps `fds` through the arrangement, with the scratch numbers above them.
    fn keep_fds(&mut self, fds: [RawFd; 2]) {
        for fd in fds {
            self.fd_scratch = self.fd_scratch.max(fd.saturating_add(1));
            if let Err(at) = self.fd_keep.binary_search(&fd) {
                self.fd_keep.insert(at, fd);
            }
        }
    }

    /// With isobox's init: its descriptors are kept through the arrangement and the scratch
    /// numbers start above them. Call after `seccomp_program` is set.
    pub fn with_init(mut self, exe: RawFd, status_write: RawFd, left: (RawFd, RawFd), stack: ProgramStack) -> Self {
        self.keep_fds([exe, status_write]);
        self.keep_fds([left.0, left.1]);
        let mut keep = [exe, status_write, self.control.report_write, left.1];
        keep.sort_unstable();
        let status_digits = decimal(status_write);
        let program_pidfd = self.hands_over();
        self.init = Some(InitLaunch { exe, status_write, status_digits, left, stack, program_pidfd, keep });
        self
    }

    /// The child hands a seccomp listener over after its last release (and keeps `go` open).
    pub fn hands_over(&self) -> bool {
        self.seccomp_program.is_some()
    }
}

/// `fd` in decimal, NUL-terminated (an argument of isobox's program).
fn decimal(fd: RawFd) -> [u8; 12] {
    let mut digits = [0u8; 12];
    for (dst, src) in digits.iter_mut().zip(fd.to_string().bytes()) {
        *dst = src;
    }
    digits
}

/// Everything the child reads: both halves, borrowed from the parent, which keeps them alive
/// until the child has exec'd or exited.
#[derive(Debug)]
pub(crate) struct ChildPlan<'a> {
    pub setup: &'a ChildSetup,
    pub launch: ChildLaunch<'a>,
}
