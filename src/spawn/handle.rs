//! The running sandbox, like `std::process::Child` (**parent**). What runs beside it
//! (`exec`, and a pooled command's holder) is in [`exec`]; the init's early report and an
//! overlay's upper directory are in [`early`].

mod detach;
mod early;
mod exec;
mod net;
mod unreaped;

pub(crate) use unreaped::Unreaped;

use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{ChildStderr, ChildStdin, ChildStdout, ExitStatus};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::unistd::Pid;

use super::exit_report::{ExitReport, Output, ResourceUsage};
use crate::cgroup::group::Cgroup;
use crate::cgroup::stats::{self, CgroupStats};
use crate::error::Error;
use crate::join::family::Joinable;
use crate::mount::overlay::upper::SpawnUpper;
use crate::net::mode::veth::HostVeth;
use crate::net::usermode::helper::UserNetProcess;
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
    /// `pool`): that first process, which holds the sandbox open (the init, or the waiter of
    /// a sandbox without one), and its socket. Killed with this `Child`, and ended in the
    /// background once its exit is reported.
    holder: Option<Holder>,
    /// An overlay root's upper directory of this spawn's, removed after the wait unless kept.
    upper: Option<SpawnUpper>,
    /// Run once the process's exit has been reported (a pool's refill), given the `holder` to
    /// end and, for a pooled command, the process still to reap.
    after_reap: Option<AfterReap>,
    /// The process, exited and reported but not yet reaped, for `after_reap` (`unreaped`).
    unreaped: Option<Unreaped>,
    /// `Network::UserMode`: the helper, killed and reaped once the process is reaped.
    user_net: Option<UserNetProcess>,
    /// `Network::Veth`: the pair, deleted once the process is reaped.
    veth: Option<HostVeth>,
    /// Left running by a detached held spawn: the drop neither kills nor reaps.
    left_running: bool,
}

/// What a `Child` runs once its exit is reported. It is given the pooled command's holder,
/// if any, still to be ended (killed and reaped, [`Child::end_in_background`]), with its
/// socket, whose closing wakes it, and the command's zombie, to reap: a
/// pool does these on its background thread, off the caller's `wait`.
pub(crate) struct AfterReap(pub Box<dyn FnOnce(Option<Holder>, Option<Unreaped>) + Send + Sync>);

/// A pooled command's sandbox: its first process, which holds it open, and its socket.
pub(crate) type Holder = (Box<Child>, OwnedFd);

impl std::fmt::Debug for AfterReap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AfterReap")
    }
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
            after_reap: None,
            unreaped: None,
            veth: None,
            user_net: None,
            left_running: false,
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

    /// With `hook` to run once the process's exit has been reported.
    pub(crate) fn after_reap(mut self, hook: AfterReap) -> Child {
        self.after_reap = Some(hook);
        self
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
    /// program's parent), else the program. An exec'd command's, and a pooled command's that
    /// runs beside its sandbox (see [`SandboxPool`](crate::SandboxPool)), is the command's own.
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
    /// An exec'd command, and a pooled command beside its sandbox, gets the signal itself, as
    /// a process outside would.
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
        let stderr = self.stderr.take().map(read_on_thread);
        if self.holder.is_some() {
            // A pooled command beside its sandbox: the sandbox ends with it, its pid 1 (not
            // stoppable from inside, not traceable) exiting. Should that ever not happen, what
            // the command left running would hold the pipes open until `wait` has the sandbox
            // killed: collect after the wait all the same.
            let stdout = self.stdout.take().map(read_on_thread);
            let report = self.wait();
            drop(self);
            let (stdout, stderr) = (joined(stdout)?, joined(stderr)?);
            return Ok(Output { report: report?, stdout, stderr });
        }
        let mut stdout = Vec::new();
        if let Some(mut out) = self.stdout.take() {
            out.read_to_end(&mut stdout).map_err(Error::Output)?;
        }
        let stderr = joined(stderr)?;
        let report = self.wait()?;
        Ok(Output { report, stdout, stderr })
    }

    fn reap(&mut self, nohang: bool) -> Result<Option<ExitReport>, Error> {
        let reaped = self.reap_once(nohang);
        if self.report.is_some() {
            self.veth = None; // deletes the pair: the program has ended
            self.user_net = None; // kills and reaps the helper
            match (self.after_reap.take(), self.holder.take()) {
                (Some(AfterReap(hook)), holder) => hook(holder, self.unreaped.take()),
                (None, Some((holder, _sock))) => holder.end_in_background(),
                (None, None) => {}
            }
        }
        reaped
    }

    fn reap_once(&mut self, nohang: bool) -> Result<Option<ExitReport>, Error> {
        if let Some(report) = self.report {
            return Ok(Some(report));
        }
        if let Some(report) = self.program_ended(nohang) {
            return Ok(Some(report));
        }
        let waited = self.wait_for_exit(nohang);
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
        if let Some(mut cgroup) = self.cgroup.take() {
            // Whatever the first process left behind dies with the cgroup.
            cgroup.remove()?;
        }
        // A throwaway upper is removed; one that could not be stays named (and the drop tries again).
        if self.upper.as_mut().is_some_and(SpawnUpper::remove) {
            self.upper = None;
        }
        Ok(Some(report))
    }
}

type Reader = std::thread::JoinHandle<std::io::Result<Vec<u8>>>;

/// Reads `pipe` to its end on a thread of its own.
fn read_on_thread(mut pipe: impl Read + Send + 'static) -> Reader {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        pipe.read_to_end(&mut buf).map(|_| buf)
    })
}

/// What `reader` read (nothing without one).
fn joined(reader: Option<Reader>) -> Result<Vec<u8>, Error> {
    match reader {
        Some(t) => t.join().unwrap_or_else(|_| Ok(Vec::new())).map_err(Error::Output),
        None => Ok(Vec::new()),
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.report.is_none() && !self.left_running {
            let _ = self.kill();
            let _ = self.reap(false);
        }
    }
}
