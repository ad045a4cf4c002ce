//! A `Child` and what runs beside it in its sandbox (**parent**): `Child::exec`, and a pooled
//! command's holder, the sandbox it runs in (see `pool`).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use nix::poll::{PollFd, PollFlags, PollTimeout};

use super::Child;
use crate::command::Command;
use crate::error::Error;
use crate::spawn::exit_report::{ExitReport, ResourceUsage};

impl Child {
    /// Runs `cmd` in this running sandbox, as another process beside its program: the same
    /// namespaces (joined with setns through the first process's pidfd, Linux 5.8), root,
    /// cgroup, capabilities, ids as the command asks (checked against the sandbox's maps as a
    /// spawn checks them), no_new_privs, rlimits, Landlock and seccomp filter. Unset stdio is
    /// inherited. Returns a `Child` of its own once the command has been executed.
    ///
    /// The new `Child` owns no cgroup: its [`kill`](Child::kill) and drop SIGKILL its process
    /// only (what it started stays in the sandbox, and ends with it), and its `cgroup_dirs`
    /// and `cgroup_stats` are empty. It can `exec` too, into the same sandbox. Once this
    /// sandbox's first process has been reaped (or with a pid namespace, once it exits), the
    /// exec'd processes are killed with it; waiting for the first process also reaps the
    /// exec'd ones that have exited, and keeps their status for their own `Child`.
    ///
    /// Fails with [`ExecError::SandboxGone`](crate::ExecError::SandboxGone) once the sandbox's
    /// first process has exited, with a `ConfigError` for a command the sandbox cannot run
    /// (e.g. [`ConfigError::UnmappedId`](crate::ConfigError::UnmappedId)), with a
    /// [`SetupError`](crate::SetupError) naming the step (e.g. `Step::Setns`) otherwise. A
    /// sandbox with a time namespace or seccomp notify rules cannot be joined
    /// ([`ExecError`](crate::ExecError)). A command may only be run from a `Child` that
    /// [`Sandbox::spawn`](crate::Sandbox::spawn) returned (or one exec'd from it).
    pub fn exec(&self, cmd: &Command) -> Result<Child, Error> {
        let mut joined = crate::join::exec(&self.join, self.first_process(), cmd)?;
        let child = Child::new(joined.pid, Some(joined.pidfd), &mut joined.parent_ends, joined.started, None);
        Ok(child.with_join(joined.link))
    }

    /// Starts isobox's waiter in this running sandbox on `sock` (`exe`: isobox's program), as
    /// the caller's child: a pooled sandbox whose command has no init between it and the
    /// caller (see `pool`).
    pub(crate) fn exec_waiter(&self, exe: RawFd, sock: RawFd) -> Result<Child, Error> {
        let mut joined = crate::join::exec_waiter(&self.join, self.first_process(), exe, sock)?;
        let child = Child::new(joined.pid, Some(joined.pidfd), &mut joined.parent_ends, joined.started, None);
        Ok(child.with_join(joined.link))
    }

    /// A pooled command's process, with the sandbox it runs in (`holder`, its first process,
    /// and that one's socket), which it ends.
    pub(crate) fn with_holder(mut self, holder: Child, sock: OwnedFd) -> Child {
        self.holder = Some((Box::new(holder), sock));
        self
    }

    /// The sandbox a pooled command runs beside: its first process, which holds it open, and
    /// that one's socket.
    pub(crate) fn holder(&self) -> Option<(&Child, BorrowedFd<'_>)> {
        self.holder.as_ref().map(|(first, sock)| (&**first, sock.as_fd()))
    }

    /// Whether the sandbox a pooled command would run beside still stands: the socket of
    /// its holder has not closed (the holder, pid 1, killed from outside ends the sandbox,
    /// and the command's process with it). `true` without one.
    pub(crate) fn holder_stands(&self) -> bool {
        let Some((_, sock)) = &self.holder else { return true };
        let mut fds = [PollFd::new(sock.as_fd(), PollFlags::POLLIN)];
        matches!(nix::poll::poll(&mut fds, PollTimeout::ZERO), Ok(0))
    }

    /// What `exec` needs to know of this `Child`'s process.
    fn first_process(&self) -> crate::join::FirstProcess<'_> {
        crate::join::FirstProcess {
            pid: self.pid.as_raw(),
            pidfd: self.pidfd(),
            cgroup: self.cgroup.as_ref(),
            reaped: self.report.is_some(),
        }
    }

    /// Kills the sandbox and has isobox's reaper thread reap its first process, whose exit
    /// tears the namespaces down: nobody waits for it. Reaped here if that thread is
    /// missing, or if there is a cgroup to remove after.
    pub(crate) fn end_in_background(mut self: Box<Child>) {
        let _ = self.kill();
        // A cgroup to remove, or an upper directory to remove once the overlay is gone with
        // the init: dropped, so reaped here.
        if self.cgroup.is_some() || self.upper.is_some() || !crate::spawn::reaper::reap_later(self.pid) {
            return;
        }
        let (status, usage) = (ExitStatus::from_raw(libc::SIGKILL), ResourceUsage::default());
        self.report = Some(ExitReport { status, wall_time: self.started.elapsed(), usage, cgroup: None });
        self.pidfd = None;
    }
}
