//! The handle of a running helper (**parent**): kills and reaps it on [`UserNetProcess::stop`] or
//! drop, so that no helper outlives its handle.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::OwnedFd;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use super::error::{UserNetError, UserNetStep};
use super::probe::errno_of;
use super::spec::UserNetHelper;

/// How much of a failed helper's stderr an error keeps (its end).
const STDERR_TAIL: usize = 2048;

/// A running pasta or slirp4netns serving one sandbox's network, from
/// [`start`](super::start::start). Dropping it (or [`UserNetProcess::stop`]) kills the helper with
/// SIGKILL and reaps it; it also dies with the process (its death signal).
#[derive(Debug)]
pub struct UserNetProcess {
    helper: UserNetHelper,
    version: String,
    child: Child,
    reaped: bool,
    /// slirp4netns's `--exit-fd` pipe: its end closing also ends the helper.
    _exit_fd: Option<OwnedFd>,
    stderr: File,
}

impl UserNetProcess {
    pub(crate) fn new(
        helper: UserNetHelper,
        version: String,
        child: Child,
        exit_fd: Option<OwnedFd>,
        stderr: File,
    ) -> Self {
        Self { helper, version, child, reaped: false, _exit_fd: exit_fd, stderr }
    }

    /// Which helper this is.
    #[must_use]
    pub fn helper(&self) -> UserNetHelper {
        self.helper
    }

    /// The helper's pid on the host.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the helper's `--version` printed (its first line).
    #[must_use]
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Kills the helper and reaps it.
    pub fn stop(mut self) -> Result<(), UserNetError> {
        self.kill_and_reap(Duration::ZERO).map(drop)
    }

    /// Waits up to `grace` for the helper to exit by itself (to report its own status),
    /// then kills it with SIGKILL, and reaps it.
    pub(crate) fn kill_and_reap(&mut self, grace: Duration) -> Result<ExitStatus, UserNetError> {
        let io =
            |e: std::io::Error| UserNetError::Io { helper: self.helper, step: UserNetStep::Stop, errno: errno_of(&e) };
        let end = Instant::now() + grace;
        loop {
            if let Some(status) = self.child.try_wait().map_err(io)? {
                self.reaped = true;
                return Ok(status);
            }
            if Instant::now() >= end {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.child.kill().map_err(io)?;
        let status = self.child.wait().map_err(io)?;
        self.reaped = true;
        Ok(status)
    }

    /// The end of what the helper wrote to stderr.
    pub(crate) fn stderr_tail(&mut self) -> String {
        let mut text = Vec::new();
        let _ = self.stderr.seek(SeekFrom::Start(0)).and_then(|_| self.stderr.read_to_end(&mut text));
        let start = text.len().saturating_sub(STDERR_TAIL);
        String::from_utf8_lossy(&text[start..]).into_owned()
    }
}

impl Drop for UserNetProcess {
    /// SIGKILL, and the reap on isobox's reaper thread: the helper's exit closes its tap,
    /// whose unregistering waits for RCU grace periods (15–28 ms measured here), which would
    /// otherwise be the caller's `wait`. Reaped here if that thread is missing.
    fn drop(&mut self) {
        if self.reaped {
            return;
        }
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        if self.child.kill().is_ok() && crate::spawn::reaper::reap_later(pid) {
            return;
        }
        let _ = self.kill_and_reap(Duration::ZERO);
    }
}
