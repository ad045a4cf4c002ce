//! A `Child`'s early end (**parent**): the init's report of the program's end, which can end
//! the wait before the init's own exit; and an overlay root's upper directory, which waits
//! for that exit.

use std::os::fd::AsFd;
#[cfg(feature = "tokio")]
use std::os::fd::BorrowedFd;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::ExitStatus;

use nix::poll::{PollFd, PollFlags, PollTimeout};

use super::Child;
use crate::mount::overlay::upper::SpawnUpper;
use crate::spawn::exit_report::ExitReport;
use crate::sys::process as sys;

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
    pub(super) fn program_ended(&mut self, nohang: bool) -> Option<ExitReport> {
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
        let (status, usage) = crate::spawn::init::read_status(status)?;
        if !crate::spawn::reaper::reap_later(self.pid) {
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
