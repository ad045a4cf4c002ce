//! [`AsyncChild`] (**parent**): a [`Child`] whose wait, kill and stdio are async.

use std::os::fd::OwnedFd;
use std::time::Duration;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::net::unix::pipe;

use super::worker::reap_later;
use crate::cgroup::stats::CgroupStats;
use crate::error::{Error, SpawnError};
use crate::seccomp::notify::Notifier;
use crate::signal::Signal;
use crate::spawn::exit_report::ExitReport;
use crate::spawn::handle::Child;

/// The write end of the program's stdin pipe, for tokio (`AsyncWrite`).
pub type ChildStdin = pipe::Sender;
/// The read end of the program's stdout pipe, for tokio (`AsyncRead`).
pub type ChildStdout = pipe::Receiver;
/// The read end of the program's stderr pipe, for tokio (`AsyncRead`).
pub type ChildStderr = pipe::Receiver;

/// A sandbox whose program is running, from
/// [`Sandbox::spawn_async`](crate::Sandbox::spawn_async): a [`Child`] whose waits are futures
/// on the runtime's reactor (the pidfd in an `AsyncFd`) and whose pipes are tokio pipes.
///
/// Every wait is cancel-safe: dropping a `wait()` future loses nothing, and the next wait
/// picks up where it left off. Dropping an `AsyncChild` that has not been waited for kills
/// the sandbox (as dropping a [`Child`] does: the first process, and every process of its
/// cgroup) at once, and hands it to a thread of isobox's that reaps it and removes its
/// cgroup, so the runtime never blocks on it.
#[derive(Debug)]
pub struct AsyncChild {
    /// `None` only once `Drop` or `wait_with_output` has taken it.
    inner: Option<Child>,
    /// A copy of the child's pidfd, registered with the reactor (`None` before Linux 5.2:
    /// `wait` then polls `try_wait` with a growing sleep).
    pidfd: Option<AsyncFd<OwnedFd>>,
    /// A copy of isobox's init's report pipe, where that report ends the wait (no cgroup):
    /// readable when the program has ended, before the init's own exit.
    report: Option<AsyncFd<OwnedFd>>,
    /// The program's stdin, when the command asked for a pipe.
    pub stdin: Option<ChildStdin>,
    /// The program's stdout, when piped.
    pub stdout: Option<ChildStdout>,
    /// The program's stderr, when piped.
    pub stderr: Option<ChildStderr>,
}

/// The readiness of whichever of `a` and `b` turns readable first.
async fn first_readable<'a>(
    a: &'a AsyncFd<OwnedFd>,
    b: Option<&'a AsyncFd<OwnedFd>>,
) -> std::io::Result<tokio::io::unix::AsyncFdReadyGuard<'a, OwnedFd>> {
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(ready) = a.poll_read_ready(cx) {
            return std::task::Poll::Ready(ready);
        }
        match b {
            Some(b) => b.poll_read_ready(cx),
            None => std::task::Poll::Pending,
        }
    })
    .await
}

fn register(what: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    move |e| SpawnError::io(what)(e).into()
}

/// `AsyncFd::with_interest`, deprecated since tokio 1.54 because a `T: AsRawFd` need not keep
/// its descriptor open and unchanged (tokio#8587). An `OwnedFd` does, which is the contract of
/// its unsafe successor `register_with_interest`; that one needs tokio 1.51.6 or 1.53.3, this
/// one works from 1.36.
#[allow(deprecated)]
fn register_readable(fd: OwnedFd) -> std::io::Result<AsyncFd<OwnedFd>> {
    AsyncFd::with_interest(fd, Interest::READABLE)
}

impl AsyncChild {
    /// Wraps `child` (on the runtime: registering needs its reactor). Should a registration
    /// fail, the child is dropped through `Drop`, i.e. reaped off the runtime.
    pub(crate) fn new(child: Child) -> Result<AsyncChild, Error> {
        let mut this =
            AsyncChild { inner: Some(child), pidfd: None, report: None, stdin: None, stdout: None, stderr: None };
        let child = this.inner.as_mut().expect("just set");
        let pidfd = child.pidfd().map(|fd| fd.try_clone_to_owned()).transpose();
        let pidfd = pidfd.map_err(register("copying the sandbox's pidfd"))?;
        let report = child.early_report_fd().map(|fd| fd.try_clone_to_owned()).transpose();
        let report = report.map_err(register("copying the init's report pipe"))?;
        let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
        this.report = report
            .map(register_readable)
            .transpose()
            .map_err(register("registering the init's report pipe with tokio"))?;
        this.pidfd = pidfd
            .map(register_readable)
            .transpose()
            .map_err(register("registering the sandbox's pidfd with the tokio runtime"))?;
        let sender = |s: std::process::ChildStdin| pipe::Sender::from_owned_fd(OwnedFd::from(s));
        this.stdin = stdin.map(sender).transpose().map_err(register("registering the stdin pipe with tokio"))?;
        let receiver = |fd: OwnedFd| pipe::Receiver::from_owned_fd(fd);
        let out = stdout.map(|s| receiver(s.into())).transpose();
        this.stdout = out.map_err(register("registering the stdout pipe with tokio"))?;
        let err = stderr.map(|s| receiver(s.into())).transpose();
        this.stderr = err.map_err(register("registering the stderr pipe with tokio"))?;
        Ok(this)
    }

    fn child(&mut self) -> &mut Child {
        self.inner.as_mut().expect("an AsyncChild holds its Child until dropped")
    }

    /// The host pid of the sandbox's first process.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.inner.as_ref().map_or(0, Child::id)
    }

    /// Waits for the program to exit, without blocking the runtime (closing its stdin first
    /// and dropping a notifier still held, as [`Child::wait`] does). Cancel-safe.
    pub async fn wait(&mut self) -> Result<ExitReport, Error> {
        drop(self.stdin.take());
        drop(self.child().take_notifier());
        let Some(pidfd) = &self.pidfd else {
            return self.poll_wait().await;
        };
        let report_pipe = self.report.as_ref();
        loop {
            let inner = self.inner.as_mut().expect("an AsyncChild holds its Child until dropped");
            if let Some(report) = inner.try_wait()? {
                return Ok(report);
            }
            // Readable once the process has exited (or, the init's report pipe, once the
            // program has). Cleared only with the readiness the guard saw, so an exit between
            // `try_wait` and here is not lost.
            let pid = inner.id() as i32;
            let mut ready = first_readable(pidfd, report_pipe).await.map_err(|source| Error::Wait { pid, source })?;
            if let Some(report) = inner.try_wait()? {
                return Ok(report);
            }
            ready.clear_ready();
        }
    }

    /// Without a pidfd: `try_wait` every 1 ms at first, every 50 ms at most.
    async fn poll_wait(&mut self) -> Result<ExitReport, Error> {
        let mut pause = Duration::from_millis(1);
        loop {
            if let Some(report) = self.child().try_wait()? {
                return Ok(report);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// Waits at most `timeout`; `None` if the program is still running then (it is not
    /// killed: call [`AsyncChild::kill`] for that). Needs the runtime's time driver.
    pub async fn wait_timeout(&mut self, timeout: Duration) -> Result<Option<ExitReport>, Error> {
        match tokio::time::timeout(timeout, self.wait()).await {
            Ok(report) => report.map(Some),
            Err(_elapsed) => Ok(None),
        }
    }

    /// Returns the exit report if the program has exited, without blocking.
    pub fn try_wait(&mut self) -> Result<Option<ExitReport>, Error> {
        self.child().try_wait()
    }

    /// Kills the sandbox with SIGKILL, as [`Child::kill`] does (its first process and, when it
    /// has a cgroup, every process in it). Does not block and does not wait: `wait` reaps it.
    pub fn kill(&mut self) -> Result<(), Error> {
        self.child().kill()
    }

    /// Sends `signal` to the sandbox's first process, as [`Child::signal`] does.
    pub fn signal(&mut self, signal: Signal) -> Result<(), Error> {
        self.child().signal(signal)
    }

    /// What the sandbox uses right now, from its cgroup, as [`Child::cgroup_stats`].
    #[must_use]
    pub fn cgroup_stats(&self) -> Option<CgroupStats> {
        self.inner.as_ref().and_then(Child::cgroup_stats)
    }

    /// The sandbox's cgroup directories, as [`Child::cgroup_dirs`].
    #[must_use]
    pub fn cgroup_dirs(&self) -> Vec<&std::path::Path> {
        self.inner.as_ref().map(Child::cgroup_dirs).unwrap_or_default()
    }

    /// The seccomp listener, once, as [`Child::take_notifier`] (its `recv` blocks: answer it
    /// from a thread of its own or `spawn_blocking`).
    #[must_use]
    pub fn take_notifier(&mut self) -> Option<Notifier> {
        self.child().take_notifier()
    }
}

impl Drop for AsyncChild {
    fn drop(&mut self) {
        let Some(mut child) = self.inner.take() else { return };
        if matches!(child.try_wait(), Ok(Some(_))) {
            return; // reaped already: dropping it is quick
        }
        let _ = child.kill(); // at once, not when the reaper gets to it
        reap_later(child);
    }
}
