//! The running sandbox, like `std::process::Child` (**parent**).

use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ChildStderr, ChildStdin, ChildStdout, ExitStatus};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::unistd::Pid;

use super::exit_report::{ExitReport, Output, ResourceUsage};
use crate::cgroup::group::Cgroup;
use crate::cgroup::stats::{self, CgroupStats};
use crate::command::Command;
use crate::error::Error;
use crate::join::family::Joinable;
use crate::mount::overlay::upper::SpawnUpper;
use crate::seccomp::notify::Notifier;
use crate::signal::Signal;
use crate::sys::process as sys;

/// A sandbox whose program is running.
///
/// Dropping a `Child` that has not been waited for **kills it with SIGKILL and reaps it**
/// (unlike `std::process::Child`), as [`Child::kill`] does: the first process and, when the
/// sandbox has a cgroup (any limit, or
/// [`cgroup_parent`](crate::SandboxBuilder::cgroup_parent)), every process in that cgroup,
/// which is then removed. With a pid namespace, killing the first process (pid 1 there) also
/// ends every other process in it. Without a pid namespace or a cgroup, only the first
/// process is killed.
#[derive(Debug)]
pub struct Child {
    pid: Pid,
    pidfd: Option<OwnedFd>,
    started: Instant,
    report: Option<ExitReport>,
    cgroup: Option<Cgroup>,
    /// The program's stdin, when the command asked for a pipe.
    pub stdin: Option<ChildStdin>,
    /// The program's stdout, when piped.
    pub stdout: Option<ChildStdout>,
    /// The program's stderr, when piped.
    pub stderr: Option<ChildStderr>,
    notifier: Option<Notifier>,
    /// With isobox's init: the pipe on which it reports the program's status.
    init_status: Option<OwnedFd>,
    /// What `exec` needs of the sandbox, and the exec'd processes `wait` may reap.
    join: Joinable,
    /// A pooled command run beside the sandbox's first process, as the caller's child (see
    /// `pool`): that first process, and the socket by which its waiter holds the sandbox
    /// open. Killed with this `Child`, and ended in the background once it is reaped.
    holder: Option<(Box<Child>, OwnedFd)>,
    /// An overlay root's upper directory of this spawn's, removed after the wait unless kept.
    upper: Option<SpawnUpper>,
}

impl Child {
    pub(crate) fn new(
        pid: Pid,
        pidfd: Option<OwnedFd>,
        ends: &mut [Option<OwnedFd>; 3],
        started: Instant,
        cgroup: Option<Cgroup>,
    ) -> Child {
        Child {
            pid,
            pidfd,
            started,
            report: None,
            cgroup,
            stdin: ends[0].take().map(ChildStdin::from),
            stdout: ends[1].take().map(ChildStdout::from),
            stderr: ends[2].take().map(ChildStderr::from),
            notifier: None,
            init_status: None,
            join: Joinable::default(),
            holder: None,
            upper: None,
        }
    }

    /// A pooled sandbox's command took over at `started`: its stdio, and its wall time from
    /// then.
    pub(crate) fn attach_stdio(&mut self, ends: &mut [Option<OwnedFd>; 3], started: Instant) {
        self.stdin = ends[0].take().map(ChildStdin::from);
        self.stdout = ends[1].take().map(ChildStdout::from);
        self.stderr = ends[2].take().map(ChildStderr::from);
        self.started = started;
    }

    /// With isobox's init, whose status pipe says how the program ended.
    pub(crate) fn with_init_status(mut self, status: Option<OwnedFd>) -> Child {
        self.init_status = status;
        self
    }

    /// With the sandbox's plan, so that [`Child::exec`] can run more commands in it.
    pub(crate) fn with_plan(self, plan: std::sync::Arc<crate::build::SandboxPlan>) -> Child {
        self.with_join(Joinable::first(plan))
    }

    /// With its link to the sandbox's other processes (an exec'd process's, or the first's).
    pub(crate) fn with_join(mut self, join: Joinable) -> Child {
        self.join = join;
        self
    }

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

    /// A pooled command's process, with the sandbox it runs in (`holder`, and its waiter's
    /// socket), which it ends.
    pub(crate) fn with_holder(mut self, holder: Child, sock: OwnedFd) -> Child {
        self.holder = Some((Box::new(holder), sock));
        self
    }

    /// Whether the sandbox a pooled command would run beside still stands: the socket of
    /// the waiter that holds it has not closed (that waiter killed from outside ends the
    /// sandbox, and the command's process with it). `true` without one.
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

    /// With the seccomp listener the parent took from the child (notify rules).
    pub(crate) fn with_notifier(mut self, notifier: Option<Notifier>) -> Child {
        self.notifier = notifier;
        self
    }

    /// The listener of the sandbox's seccomp filter, once: `Some` the first time for a sandbox
    /// with [`Seccomp::notify`](crate::Seccomp::notify) rules, `None` after and without them.
    /// The program's notified calls wait until a thread answers them through it (typically
    /// one that loops on [`Notifier::recv`] until it returns `None`, which it does once the
    /// sandbox is reaped, on Linux 5.8 or later). Left here, it is dropped by `wait` and with
    /// the `Child`.
    #[must_use]
    pub fn take_notifier(&mut self) -> Option<Notifier> {
        self.notifier.take()
    }

    /// The host pid of the sandbox's first process: with a pid namespace isobox's init (the
    /// program's parent), else the program.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.pid.as_raw() as u32
    }

    /// A pidfd for the process (Linux 5.2+), which can be polled for exit and never refers
    /// to a recycled pid.
    #[must_use]
    pub fn pidfd(&self) -> Option<BorrowedFd<'_>> {
        self.pidfd.as_ref().map(|fd| fd.as_fd())
    }

    /// Waits for the program to exit (closing its stdin first, as std does, and dropping a
    /// notifier still held here, so that a notified call nobody answers fails with ENOSYS
    /// instead of waiting forever).
    ///
    /// With isobox's init, a sandbox without a cgroup (and without exec'd commands) is done
    /// when the init reports the program's end: `wait` returns then, and the init's own exit,
    /// in which the kernel kills what else runs in the namespace and tears the namespaces
    /// down, and its reaping follow on a thread of isobox's, within moments. With a cgroup,
    /// `wait` returns once everything has ended and the cgroup is removed.
    pub fn wait(&mut self) -> Result<ExitReport, Error> {
        drop(self.stdin.take());
        drop(self.notifier.take());
        self.reap(false).map(|r| r.expect("a blocking wait4 returns a status"))
    }

    /// Returns the exit report if the program has exited, without blocking.
    pub fn try_wait(&mut self) -> Result<Option<ExitReport>, Error> {
        self.reap(true)
    }

    /// Waits at most `timeout`; `None` if the program is still running then.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<Option<ExitReport>, Error> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(report) = self.try_wait()? {
                return Ok(Some(report));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.sleep_until_exit(left);
        }
    }

    /// Polls the pidfd (or, without one, sleeps a little) for at most `left`.
    fn sleep_until_exit(&self, left: Duration) {
        match &self.pidfd {
            Some(fd) => {
                let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
                let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
                let _ = nix::poll::poll(&mut fds, PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX));
            }
            None => std::thread::sleep(left.min(Duration::from_millis(5))),
        }
    }

    /// Kills the sandbox with SIGKILL: its first process and, when it has a cgroup, every
    /// process in it. Does nothing if it has already been reaped.
    pub fn kill(&mut self) -> Result<(), Error> {
        if let Some(cgroup) = &self.cgroup {
            cgroup.kill_all();
        }
        if let Some((holder, _)) = &mut self.holder {
            let _ = holder.signal(Signal::KILL); // the sandbox's init: all in its pid namespace
        }
        self.signal(Signal::KILL)
    }

    /// The sandbox's cgroup directories, one per hierarchy it uses (empty without a cgroup, or
    /// once it has been removed after `wait`).
    #[must_use]
    pub fn cgroup_dirs(&self) -> Vec<&std::path::Path> {
        self.cgroup.iter().flat_map(|c| c.dirs.iter().map(|d| d.path.as_path())).collect()
    }

    /// What the sandbox uses right now, from its cgroup (`None` without one, or once it has
    /// been removed after `wait`; a cgroup comes with any limit or with
    /// [`cgroup_parent`](crate::SandboxBuilder::cgroup_parent)).
    #[must_use]
    pub fn cgroup_stats(&self) -> Option<CgroupStats> {
        self.cgroup.as_ref().map(|c| stats::read(c, stats::When::Live))
    }

    /// Sends `signal` to the sandbox's first process (through the pidfd where there is one).
    ///
    /// With a pid namespace that process is isobox's init, which forwards the signal to the
    /// program (all but SIGKILL, which ends the whole sandbox, and SIGSTOP, which stops only
    /// the init), so the program gets it as it would outside. With
    /// [`init(false)`](crate::SandboxBuilder::init) the program is pid 1 itself, and the kernel
    /// delivers it only signals it has a handler for (SIGKILL and SIGSTOP always): a program
    /// that does not handle SIGTERM then ignores it, as in any container without an init.
    pub fn signal(&mut self, signal: Signal) -> Result<(), Error> {
        if self.report.is_some() {
            return Ok(());
        }
        let sent = match &self.pidfd {
            Some(fd) => sys::pidfd_send_signal(fd.as_fd(), signal.number()),
            None => sys::kill(self.pid, signal.number()),
        };
        // ESRCH: exited but not yet reaped; not an error, as in std.
        match sent {
            Err(e) if e.raw_os_error() != Some(libc::ESRCH) => {
                Err(Error::Signal { pid: self.pid.as_raw(), signal, source: e })
            }
            _ => Ok(()),
        }
    }

    /// Waits for exit while collecting all of stdout and stderr.
    pub fn wait_with_output(mut self) -> Result<Output, Error> {
        drop(self.stdin.take());
        drop(self.notifier.take());
        let stderr = self.stderr.take().map(|mut err| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                err.read_to_end(&mut buf).map(|_| buf)
            })
        });
        let mut stdout = Vec::new();
        if let Some(mut out) = self.stdout.take() {
            out.read_to_end(&mut stdout).map_err(Error::Output)?;
        }
        let stderr = match stderr {
            Some(t) => t.join().unwrap_or_else(|_| Ok(Vec::new())).map_err(Error::Output)?,
            None => Vec::new(),
        };
        let report = self.wait()?;
        Ok(Output { report, stdout, stderr })
    }

    fn reap(&mut self, nohang: bool) -> Result<Option<ExitReport>, Error> {
        if let Some(report) = self.report {
            return Ok(Some(report));
        }
        if let Some(report) = self.program_ended(nohang) {
            return Ok(Some(report));
        }
        let waited = self.join.wait4(self.pid, self.pidfd(), nohang);
        let waited = waited.map_err(|source| Error::Wait { pid: self.pid.as_raw(), source })?;
        let Some((status, usage)) = waited else {
            return Ok(None);
        };
        // With an init, the program's own status and use (if the init lived to report them).
        let program = self.init_status.take().and_then(|fd| super::init::read_status(&fd));
        let (status, usage) = program.unwrap_or((status, ResourceUsage::from_rusage(&usage)));
        let wall_time = self.started.elapsed();
        let cgroup = self.cgroup.as_ref().map(|c| stats::read(c, stats::When::Final));
        let report = ExitReport { status: ExitStatus::from_raw(status), wall_time, usage, cgroup };
        self.report = Some(report);
        self.pidfd = None;
        if let Some((holder, _sock)) = self.holder.take() {
            holder.end_in_background();
        }
        if let Some(mut cgroup) = self.cgroup.take() {
            // Whatever the first process left behind dies with the cgroup.
            cgroup.remove()?;
        }
        if self.upper.as_ref().is_some_and(|u| !u.keep()) {
            self.upper = None; // removes it
        }
        Ok(Some(report))
    }
}

impl Child {
    /// An overlay root's upper directory of this spawn's (`Upper::Dir`), which the `Child`
    /// removes after its wait unless kept.
    pub(crate) fn with_upper(mut self, upper: Option<SpawnUpper>) -> Child {
        self.upper = upper;
        self
    }

    /// With an overlay root whose upper is a directory ([`Upper::Dir`](crate::Upper::Dir)): this
    /// sandbox's upper directory on the host, holding what it changed (deletions as overlayfs's
    /// whiteouts). `None` with a tmpfs upper, and once removed after the wait (unless
    /// [`keep_upper`](crate::OverlayRoot::keep_upper)).
    #[must_use]
    pub fn upper_dir(&self) -> Option<PathBuf> {
        let holders = || self.holder.as_ref().and_then(|(holder, _)| holder.upper_dir());
        self.upper.as_ref().map(SpawnUpper::upper).or_else(holders)
    }

    /// The pipe on which isobox's init reports the program's end, when that report ends the
    /// wait (see [`Child::program_ended`]): an async waiter watches it beside the pidfd.
    #[cfg(feature = "tokio")]
    pub(crate) fn early_report_fd(&self) -> Option<BorrowedFd<'_>> {
        let early = self.cgroup.is_none() && self.upper.is_none() && self.join.family.get().is_none();
        self.init_status.as_ref().filter(|_| early).map(|fd| fd.as_fd())
    }

    /// With isobox's init and nothing else to wait for (no cgroup to remove, no exec'd process
    /// in the family): the program's end as the init reports it, before the init's own exit,
    /// in which the kernel tears the namespaces down; the init is reaped in the background.
    /// `None`: not that case, or not yet (`nohang`), or the init ended without a report.
    fn program_ended(&mut self, nohang: bool) -> Option<ExitReport> {
        // An upper directory is removed (or kept) once the overlay is gone with the init.
        if self.cgroup.is_some() || self.upper.is_some() || self.join.family.get().is_some() {
            return None;
        }
        let status = self.init_status.as_ref()?;
        if !nohang {
            let mut fds = vec![PollFd::new(status.as_fd(), PollFlags::POLLIN)];
            if let Some(pidfd) = &self.pidfd {
                fds.push(PollFd::new(pidfd.as_fd(), PollFlags::POLLIN));
            }
            while matches!(nix::poll::poll(&mut fds, PollTimeout::NONE), Err(nix::errno::Errno::EINTR)) {}
        }
        let (status, usage) = super::init::read_status(status)?;
        if !super::reaper::reap_later(self.pid) {
            let _ = sys::wait4(self.pid, false);
        }
        let report =
            ExitReport { status: ExitStatus::from_raw(status), wall_time: self.started.elapsed(), usage, cgroup: None };
        self.init_status = None;
        self.pidfd = None;
        self.report = Some(report);
        Some(report)
    }
}

impl Child {
    /// Kills the sandbox and has isobox's reaper thread reap its first process, whose exit
    /// tears the namespaces down: nobody waits for it. Reaped here if that thread is
    /// missing, or if there is a cgroup to remove after.
    fn end_in_background(mut self: Box<Child>) {
        let _ = self.kill();
        // A cgroup to remove, or an upper directory to remove once the overlay is gone with
        // the init: dropped, so reaped here.
        if self.cgroup.is_some() || self.upper.is_some() || !super::reaper::reap_later(self.pid) {
            return;
        }
        let (status, usage) = (ExitStatus::from_raw(libc::SIGKILL), ResourceUsage::default());
        self.report = Some(ExitReport { status, wall_time: self.started.elapsed(), usage, cgroup: None });
        self.pidfd = None;
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.report.is_none() {
            let _ = self.kill();
            let _ = self.reap(false);
        }
    }
}
