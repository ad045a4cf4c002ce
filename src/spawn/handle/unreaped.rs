//! A pooled command's exit taken without reaping it (**parent**): its `wait` reads the
//! status and resource use with `WNOWAIT` and leaves the zombie to the pool's background
//! thread, so that the kernel's release of the process (its own seccomp filter and its pid
//! freed, which wakes the sandbox's init waiting in its exit for it) happens off the
//! caller's `wait`: a spawn from a full pool measured 2–4% faster (BENCHMARKS.md).

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use nix::unistd::Pid;

use super::Child;
use crate::join::family::{Joinable, Waited};
use crate::sys::process as sys;

/// A command that has exited and been reported, still a zombie; reaped when dropped.
#[derive(Debug)]
pub(crate) struct Unreaped {
    pid: Pid,
    pidfd: OwnedFd,
    /// Its sandbox's family, which may have reaped it already and holds its status then.
    join: Joinable,
}

impl Drop for Unreaped {
    fn drop(&mut self) {
        // It has exited: this does not block.
        let _ = self.join.wait4(self.pid, Some(self.pidfd.as_fd()), false);
    }
}

impl Child {
    /// Waits for the process's exit (or looks, with `nohang`). A pooled command beside its
    /// sandbox, whose `after_reap` hook takes the zombie on, is left unreaped (see above);
    /// anything else is reaped here.
    pub(super) fn wait_for_exit(&mut self, nohang: bool) -> io::Result<Option<Waited>> {
        let hands_on = self.holder.is_some() && self.after_reap.is_some();
        let Some(pidfd) = self.pidfd.as_ref().filter(|_| hands_on) else {
            return self.join.wait4(self.pid, self.pidfd(), nohang);
        };
        let exited = sys::exit_without_reaping(pidfd.as_fd(), nohang)?;
        if exited.is_some() {
            let pidfd = self.pidfd.take().expect("checked above");
            // Its own link to the family: this `Child`'s stays, so that a later `exec` says
            // the sandbox is gone.
            let join = self.join.family.get().map_or_else(Joinable::default, |f| Joinable::member(Arc::clone(f)));
            self.unreaped = Some(Unreaped { pid: self.pid, pidfd, join });
        }
        Ok(exited)
    }
}
