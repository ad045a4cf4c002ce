//! Running more commands in a live sandbox, `Child::exec` (**parent**, but for what
//! `child::join_recipe` runs): same namespaces, cgroup, root and hardening as the sandbox's
//! first process; a `Child` of its own.
//!
//! - spec: [`error`] (`ExecError`); the command is a `Command`, prepared as a spawn's.
//! - plan: [`plan`] (what A and B read; which sandboxes can be joined).
//! - apply: [`exec`] below, one screen; the child's side is `child::join_recipe`, its system
//!   calls `sys::join`; [`family`] ties the exec'd `Child`s to the first one for waiting.
//! - describe: [`describe`] (hints for the two steps of its own); the rest is
//!   `child::describe`'s, as for a spawn.

pub(crate) mod describe;
pub(crate) mod error;
pub(crate) mod family;
pub(crate) mod plan;

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Instant;

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::cgroup::group::Cgroup;
use crate::child::describe::setup_failure;
use crate::child::plan::ChildLaunch;
use crate::child::record::Record;
use crate::child::step::Step;
use crate::command::Command;
use crate::error::{Error, SpawnError};
use crate::net::mode::error::NetworkError;
use crate::net::mode::netns::Entered;
use crate::spawn::dumpable::DumpableGuard;
use crate::spawn::prepare::PreparedCommand;
use crate::spawn::stdio::StdioDefaults;
use crate::spawn::{failure, pipes, prepare};
use crate::sys::join::JoinedStack;
use crate::sys::launch_join::{exec_child, pidfd_open};
use crate::sys::stack::Stack;
use crate::sys::vmclone::ParentSteps;
use error::ExecError;
use family::{Family, Joinable};
use plan::{JoinPlan, JoinedPlan};

/// A command running in the sandbox: what its `Child` is made of.
pub(crate) struct Joined {
    pub pid: Pid,
    pub pidfd: OwnedFd,
    /// The parent's ends of piped stdio.
    pub parent_ends: [Option<OwnedFd>; 3],
    pub started: Instant,
    /// Its link to the sandbox's family.
    pub link: Joinable,
}

/// What a `Child` knows of its own process, for its first exec.
pub(crate) struct FirstProcess<'a> {
    pub pid: i32,
    pub pidfd: Option<BorrowedFd<'a>>,
    pub cgroup: Option<&'a Cgroup>,
    pub reaped: bool,
}

/// The family of `link`'s sandbox: made from `first` at the first exec.
fn family(link: &Joinable, first: FirstProcess<'_>) -> Result<Arc<Family>, Error> {
    let gone = |pid| Error::from(ExecError::SandboxGone { pid });
    if let Some(family) = link.family.get() {
        return if family.first_reaped() { Err(gone(family.first_pid)) } else { Ok(Arc::clone(family)) };
    }
    let Some(plan) = &link.plan else { return Err(ExecError::NotJoinable.into()) };
    if first.reaped {
        return Err(gone(first.pid));
    }
    plan::check(plan, crate::kernel::version())?;
    let pidfd = first.pidfd.ok_or(SpawnError::Io {
        what: "exec needs a pidfd of the sandbox's first process",
        source: std::io::Error::from_raw_os_error(libc::ENOSYS),
    })?;
    let pidfd = pidfd.try_clone_to_owned().map_err(SpawnError::io("copying the sandbox's pidfd"))?;
    let cgroup = first.cgroup.map(crate::cgroup::join::existing).transpose()?.unwrap_or_default();
    let made = Arc::new(Family::new(Arc::clone(plan), first.pid, pidfd, cgroup));
    Ok(Arc::clone(link.family.get_or_init(|| made)))
}

/// Runs `cmd` in the live sandbox of `link` (see `Child::exec`).
pub(crate) fn exec(link: &Joinable, first: FirstProcess<'_>, cmd: &Command) -> Result<Joined, Error> {
    let family = family(link, first)?;
    let command = prepare::prepare(cmd, &family.plan, StdioDefaults::SPAWN)?;
    run(family, command, None)
}

/// Starts isobox's waiter in the live sandbox of `link`, on `sock` (`exe`: isobox's program):
/// a pooled sandbox whose command will be the caller's child (see `pool`).
pub(crate) fn exec_waiter(link: &Joinable, first: FirstProcess<'_>, exe: RawFd, sock: RawFd) -> Result<Joined, Error> {
    let family = family(link, first)?;
    let command = prepare::for_waiter(&family.plan)?;
    run(family, command, Some((exe, sock)))
}

/// The exec proper, of a prepared command (or of the waiter, on its socket).
fn run(family: Arc<Family>, mut command: PreparedCommand, waiter: Option<(RawFd, RawFd)>) -> Result<Joined, Error> {
    let plan = &family.plan;
    let pipes = pipes::ControlPipes::new(&command.exec.fd_moves)?;
    let mut launch = ChildLaunch::new(&command.exec, pipes.child_view(), false, &family.cgroup_join);
    if let Some((exe, sock)) = waiter {
        launch = launch.with_waiter(exe, sock, false);
    }
    // Network::Join: A is born in the joined namespace, as the first process was (the setns
    // flags leave NET out: that namespace is not the sandbox's own); the thread goes back
    // right after the clone.
    let netns = plan.network.joined().map(|ns| Entered::enter(ns, |errno| NetworkError::Join { errno }));
    let netns = netns.transpose()?;
    let stack = Stack::take().map_err(SpawnError::io("mapping the exec'd process's stack"))?;
    let (setns_flags, cgroup_ns) = plan::setns_flags(plan.namespaces);
    let pidfd = family.first.as_raw_fd();
    let cgroup_into = family.cgroup_into.as_ref().map(AsRawFd::as_raw_fd);
    let launched = AtomicI32::new(0);
    let join = JoinPlan { pidfd, setns_flags, cgroup_ns, cgroup_into, stack: JoinedStack::of(&stack), launched };
    let joined = JoinedPlan { setup: &plan.child, launch, join };
    let started = Instant::now();
    let undumpable = DumpableGuard::for_exec(); // nothing in the sandbox may ptrace B
    let (to_child, go_read) = pipes.split();
    let spawned = exec_child(&joined, to_child, &mut NoParentSteps);
    drop(netns); // back in this thread's own namespace
    let pid = joined.join.launched.load(Ordering::SeqCst);
    if pid > 0 && (spawned.is_err() || spawned.as_ref().is_ok_and(|s| !s.report.is_empty())) {
        // B failed (its record says why) or we did: it is gone, or killed now, and reaped
        // before its stack goes back.
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        let _ = crate::sys::process::wait4(Pid::from_raw(pid), false);
    }
    drop(undumpable);
    stack.give_back(); // A has exited (or was reaped), B exec'd or was reaped: nobody runs on it
    let spawned = spawned.map_err(|failure| failure::spawn_failure(failure, plan))?;
    let _ = crate::sys::process::wait4(spawned.pid, false); // A, which has exited or is exiting
    drop(go_read);
    command.child_ends.clear();
    if !spawned.report.is_empty() {
        return Err(failed(&spawned.report, &family, &joined));
    }
    let pidfd = pidfd_open(pid).map_err(|e| {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        let _ = crate::sys::process::wait4(Pid::from_raw(pid), false);
        SpawnError::io("opening a pidfd of the exec'd process")(e)
    })?;
    family.add(pid);
    let (parent_ends, link) = (std::mem::take(&mut command.parent_ends), Joinable::member(family));
    Ok(Joined { pid: Pid::from_raw(pid), pidfd, parent_ends, started, link })
}

/// The error for A's or B's failure record.
fn failed(report: &[u8], family: &Family, joined: &JoinedPlan<'_>) -> Error {
    let gone = || Error::from(ExecError::SandboxGone { pid: family.first_pid });
    match Record::decode(report) {
        Some(Record { step: Step::Setns, errno: Errno::ESRCH, .. }) => gone(),
        // A first process that has exited (a zombie) may refuse setns with EPERM before ESRCH:
        // the permission check comes first.
        Some(Record { step: Step::Setns, .. }) if has_exited(family.first.as_fd()) => gone(),
        Some(Record { step: Step::StartJoined | Step::JoinCgroup, .. }) if family.first_reaped() => gone(),
        _ => setup_failure(report, joined.setup, &joined.launch),
    }
}

/// Whether the process of `pidfd` has exited (a pidfd is readable from then on).
fn has_exited(pidfd: BorrowedFd<'_>) -> bool {
    let mut fds = [nix::poll::PollFd::new(pidfd, nix::poll::PollFlags::POLLIN)];
    nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO).is_ok_and(|n| n > 0)
}

/// The parent has nothing to do while A waits: its namespaces, maps and cgroup exist.
struct NoParentSteps;

impl ParentSteps for NoParentSteps {
    type Error = Error;

    fn before_release(&mut self, _pid: Pid, _born_in_cgroup: bool) -> Result<(), Error> {
        Ok(())
    }

    fn second_release(&self) -> bool {
        false
    }

    fn while_running(&mut self, _pid: Pid) -> Result<(), Error> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(reaped: bool) -> FirstProcess<'static> {
        FirstProcess { pid: 42, pidfd: None, cgroup: None, reaped }
    }

    #[test]
    fn a_child_without_a_plan_or_whose_sandbox_was_reaped_cannot_exec() {
        let err = family(&Joinable::default(), first(false)).unwrap_err();
        assert!(matches!(err, Error::Exec(ExecError::NotJoinable)), "{err}");
        let plan = crate::build::build(&crate::sandbox::Sandbox::builder().spec).unwrap();
        let err = family(&Joinable::first(Arc::new(plan)), first(true)).unwrap_err();
        assert!(matches!(err, Error::Exec(ExecError::SandboxGone { pid: 42 })), "{err}");
    }
}
