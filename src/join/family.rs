//! One sandbox's processes as `Child`s hold them (**parent**): its first process and the
//! commands exec'd into it, which are the caller's children too.
//!
//! Why a family: with a pid namespace, the sandbox's first process (pid 1 there) does not
//! finish exiting until every process that joined the namespace from outside has been
//! reaped by its parent (the kernel's `zap_pid_ns_processes`), and the exec'd processes'
//! parent is the caller. A blocking wait for the first process alone would then wait for
//! ever while an exec'd `Child` is not waited for (dropped later, or never). So once a
//! command has been exec'd, waiting for the first process also reaps the exec'd ones that
//! have exited, keeping their status for their own `Child`; and every wait on an exec'd one
//! goes through the same lock, so that no status is reaped twice or lost.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::unistd::Pid;

use crate::build::SandboxPlan;
use crate::cgroup::join::JoinFile;
use crate::sys::process as sys;

/// How often a wait for the first process looks again for exec'd processes to reap: one
/// may have been exec'd (through another exec'd `Child`) while it waited.
const RESCAN: Duration = Duration::from_millis(20);
/// The pause between looks at a process that has exited but cannot be reaped yet, and the
/// poll's stand-in without a pidfd.
const HELD_EXIT_PAUSE: Duration = Duration::from_millis(5);

/// What wait4 returns: the raw status and the resource usage.
pub(crate) type Waited = (i32, libc::rusage);

/// What a new exec needs of the sandbox, made at the first exec, and the exec'd processes.
pub(crate) struct Family {
    pub plan: Arc<SandboxPlan>,
    /// The first process's host pid.
    pub first_pid: i32,
    /// A pidfd of the first process, its own copy (the first `Child` may go first).
    pub first: OwnedFd,
    /// Elsewhere than on pure cgroup v2: the files the exec'd process joins through.
    pub cgroup_join: Vec<JoinFile>,
    /// Pure cgroup v2: the sandbox's cgroup directory, to clone into.
    pub cgroup_into: Option<OwnedFd>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    first_reaped: bool,
    /// Exec'd processes not yet handed to their `Child`: pid, and the status once reaped.
    members: Vec<(i32, Option<Waited>)>,
}

impl Family {
    pub fn new(
        plan: Arc<SandboxPlan>,
        first_pid: i32,
        first: OwnedFd,
        cgroup: (Vec<JoinFile>, Option<OwnedFd>),
    ) -> Self {
        let (cgroup_join, cgroup_into) = cgroup;
        Family { plan, first_pid, first, cgroup_join, cgroup_into, state: Mutex::default() }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether the first process has been reaped: the sandbox is gone.
    pub fn first_reaped(&self) -> bool {
        self.state().first_reaped
    }

    /// A new exec'd process, the caller's child.
    pub fn add(&self, pid: i32) {
        self.state().members.push((pid, None));
    }

    /// Reaps every exec'd process that has exited, keeping its status.
    fn reap_members(&self) -> io::Result<()> {
        for (pid, done) in self.state().members.iter_mut().filter(|(_, done)| done.is_none()) {
            *done = sys::wait4(Pid::from_raw(*pid), true)?;
        }
        Ok(())
    }

    /// The exec'd process `pid`'s status, reaped now or before; `None` while it runs.
    fn take(&self, pid: i32) -> io::Result<Option<Waited>> {
        let mut state = self.state();
        let Some(at) = state.members.iter().position(|(p, _)| *p == pid) else {
            return sys::wait4(Pid::from_raw(pid), true);
        };
        let done = match state.members[at].1 {
            Some(done) => Some(done),
            None => sys::wait4(Pid::from_raw(pid), true)?,
        };
        if done.is_some() {
            state.members.swap_remove(at);
        }
        Ok(done)
    }
}

impl fmt::Debug for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        let members: Vec<i32> = state.members.iter().map(|(pid, _)| *pid).collect();
        f.debug_struct("Family").field("first_pid", &self.first_pid).field("members", &members).finish()
    }
}

/// A `Child`'s link to its sandbox's family: what `Child::exec` and `Child::wait` read.
#[derive(Debug, Default)]
pub(crate) struct Joinable {
    /// The sandbox's plan (`None` for a `Child` that cannot exec: `Sandbox::output`'s).
    pub plan: Option<Arc<SandboxPlan>>,
    /// Made at the first exec from the first `Child`; given to each exec'd one.
    pub family: OnceLock<Arc<Family>>,
    /// This `Child` is an exec'd process of `family`.
    pub member: bool,
}

impl Joinable {
    /// The first process's link: it may exec with `plan`.
    pub fn first(plan: Arc<SandboxPlan>) -> Joinable {
        Joinable { plan: Some(plan), ..Joinable::default() }
    }

    /// An exec'd process's link.
    pub fn member(family: Arc<Family>) -> Joinable {
        let plan = Some(Arc::clone(&family.plan));
        Joinable { plan, family: OnceLock::from(family), member: true }
    }

    /// wait4 of this `Child`'s process `pid`, through the family once there is one.
    pub fn wait4(&self, pid: Pid, pidfd: Option<BorrowedFd<'_>>, nohang: bool) -> io::Result<Option<Waited>> {
        let Some(family) = self.family.get() else {
            return sys::wait4(pid, nohang);
        };
        let mut readable = false;
        loop {
            let done = if self.member { family.take(pid.as_raw())? } else { wait_first(family, pid)? };
            if done.is_some() || nohang {
                return Ok(done);
            }
            if readable {
                // Exited but not ours to reap yet (another process's tracer holds the exit
                // until it lets go): the pidfd stays readable, so look again in a moment
                // rather than spin.
                std::thread::sleep(HELD_EXIT_PAUSE);
            }
            // An exec'd process's pidfd turns readable at its exit; the first process's
            // may not while exec'd ones hold its exit up: look again every RESCAN.
            readable = sleep_until_exit(pidfd, (!self.member).then_some(RESCAN));
        }
    }
}

/// One look: reaps the exec'd processes that have exited, then the first if it has.
fn wait_first(family: &Family, pid: Pid) -> io::Result<Option<Waited>> {
    family.reap_members()?;
    let done = sys::wait4(pid, true)?;
    if done.is_some() {
        family.state().first_reaped = true;
    }
    Ok(done)
}

/// Polls `pidfd` for at most `timeout` (for ever without one); without a pidfd, sleeps a
/// little. Returns whether the pidfd is readable (its process has exited).
fn sleep_until_exit(pidfd: Option<BorrowedFd<'_>>, timeout: Option<Duration>) -> bool {
    let Some(fd) = pidfd else {
        std::thread::sleep(HELD_EXIT_PAUSE);
        return false;
    };
    let timeout = match timeout {
        Some(t) => PollTimeout::try_from(t.as_millis().min(i32::MAX as u128) as i32).unwrap_or(PollTimeout::MAX),
        None => PollTimeout::NONE,
    };
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    nix::poll::poll(&mut fds, timeout).is_ok_and(|n| n > 0)
}
