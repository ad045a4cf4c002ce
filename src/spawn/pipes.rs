//! The control pipes between parent and child (**parent**, per spawn): `go` releases the
//! child, `report` carries its failure record (EOF: it exec'd).

use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use nix::fcntl::OFlag;

use crate::child::plan::ControlFds;
use crate::error::SpawnError;
use crate::sys::vmclone;

/// Both pipes, close-on-exec.
pub(crate) struct ControlPipes {
    go_read: OwnedFd,
    go_write: OwnedFd,
    report_read: OwnedFd,
    report_write: OwnedFd,
}

impl ControlPipes {
    /// Creates the pipes. The report pipe's write end and the go pipe's read end (read after
    /// the descriptors are arranged when a seccomp listener is handed over) are moved above
    /// every descriptor target in `fd_moves`, so that arranging the child's descriptors
    /// cannot overwrite them.
    pub fn new(fd_moves: &[(RawFd, RawFd)]) -> Result<ControlPipes, SpawnError> {
        let pipe =
            || nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| SpawnError::io("creating a control pipe")(e.into()));
        let (mut go_read, go_write) = pipe()?;
        let (report_read, mut report_write) = pipe()?;
        let top_target = fd_moves.iter().map(|(_, dst)| *dst).max().unwrap_or(2);
        if report_write.as_raw_fd() <= top_target {
            report_write = crate::sys::fd::dup_at_or_above(report_write.as_fd(), top_target.saturating_add(1))
                .map_err(SpawnError::io("moving the report pipe"))?;
        }
        if go_read.as_raw_fd() <= top_target {
            go_read = crate::sys::fd::dup_at_or_above(go_read.as_fd(), top_target.saturating_add(1))
                .map_err(SpawnError::io("moving the go pipe"))?;
        }
        Ok(ControlPipes { go_read, go_write, report_read, report_write })
    }

    /// The descriptor numbers, as the child's plan holds them.
    pub fn child_view(&self) -> ControlFds {
        ControlFds {
            go_read: self.go_read.as_raw_fd(),
            go_write: self.go_write.as_raw_fd(),
            report_read: self.report_read.as_raw_fd(),
            report_write: self.report_write.as_raw_fd(),
        }
    }

    /// The ends the clone takes over, and `go_read`, which the parent closes once the child
    /// is done with it.
    pub fn split(self) -> (vmclone::ControlPipes, OwnedFd) {
        let ControlPipes { go_read, go_write, report_read, report_write } = self;
        (vmclone::ControlPipes { go_write, report_read, report_write, child_only: Vec::new() }, go_read)
    }
}
