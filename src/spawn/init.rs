//! isobox's init for one spawn (**parent**): the status pipe through which the init reports
//! the program's wait status, the init's executable, and the program's stack.

use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use nix::fcntl::OFlag;

use super::exit_report::ResourceUsage;
use crate::error::SpawnError;
use crate::sys::fd::dup_at_or_above;
use crate::sys::stack::Stack;
use crate::sys::vfork::ProgramStack;

/// What one spawn with an init holds until the child has exec'd.
pub(crate) struct InitSpawn {
    status_read: OwnedFd,
    status_write: OwnedFd,
    /// The pipe on whose EOF the program learns that the first process left the caller's
    /// memory (only the first process holds the write end then): the parent's copies go
    /// right after the clone.
    left: Option<(OwnedFd, OwnedFd)>,
    /// A copy of the init's executable when the shared one's number is a descriptor target.
    exe_copy: Option<OwnedFd>,
    exe: RawFd,
    stack: Stack,
}

impl InitSpawn {
    /// The status pipe (non-blocking, close-on-exec) and the init's descriptors, above every
    /// descriptor target in `fd_moves`, and a stack for the program.
    pub fn new(fd_moves: &[(RawFd, RawFd)]) -> Result<InitSpawn, SpawnError> {
        let top_target = fd_moves.iter().map(|(_, dst)| *dst).max().unwrap_or(2);
        let above = |fd: OwnedFd, what| -> Result<OwnedFd, SpawnError> {
            if fd.as_raw_fd() > top_target {
                return Ok(fd);
            }
            dup_at_or_above(fd.as_fd(), top_target.saturating_add(1)).map_err(SpawnError::io(what))
        };
        let flags = OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
        let (status_read, status_write) =
            nix::unistd::pipe2(flags).map_err(|e| SpawnError::io("creating the init's status pipe")(e.into()))?;
        let status_write = above(status_write, "moving the init's status pipe")?;
        let (left_read, left_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
            .map_err(|e| SpawnError::io("creating the init's hand-over pipe")(e.into()))?;
        let left_read = above(left_read, "moving the init's hand-over pipe")?;
        let left_write = above(left_write, "moving the init's hand-over pipe")?;
        let (exe, exe_copy) = crate::sys::init_exe::init_fd_at_or_above(top_target.saturating_add(1))
            .map_err(SpawnError::io("making isobox's init executable"))?;
        let stack = Stack::take().map_err(SpawnError::io("mapping the program's stack"))?;
        Ok(InitSpawn { status_read, status_write, left: Some((left_read, left_write)), exe_copy, exe, stack })
    }

    /// The descriptors and the stack, as the child's plan holds them.
    pub fn child_view(&self) -> InitFds {
        let stack = ProgramStack::of(&self.stack);
        let (read, write) = self.left.as_ref().map_or((-1, -1), |(r, w)| (r.as_raw_fd(), w.as_raw_fd()));
        InitFds { exe: self.exe, status_write: self.status_write.as_raw_fd(), left: (read, write), stack }
    }

    /// The parent's copies of the hand-over pipe, to close right after the clone: the
    /// program must see EOF once the first process's copy is gone.
    pub fn take_child_only(&mut self) -> Vec<OwnedFd> {
        self.left.take().map(|(r, w)| vec![r, w]).unwrap_or_default()
    }

    /// Once the child has exec'd or died: the status pipe's read end, for the `Child`.
    pub fn finish(self) -> OwnedFd {
        let InitSpawn { status_read, status_write, left, exe_copy, stack, .. } = self;
        drop((status_write, left, exe_copy));
        stack.give_back(); // neither the first process nor the program runs on it any more
        status_read
    }
}

/// The init's descriptors and the program's stack, as the child's plan holds them.
pub(crate) struct InitFds {
    pub exe: RawFd,
    pub status_write: RawFd,
    /// The hand-over pipe: read end, write end.
    pub left: (RawFd, RawFd),
    pub stack: ProgramStack,
}

/// The program's wait status and resource use, if the init wrote them (it does just before
/// it exits).
pub(crate) fn read_status(status_read: &OwnedFd) -> Option<(i32, ResourceUsage)> {
    let mut bytes = [0u8; 4 + 144];
    match nix::unistd::read(status_read.as_raw_fd(), &mut bytes) {
        Ok(n) if n == bytes.len() => {
            let status = i32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            let mut words = [0i64; 18];
            for (i, w) in words.iter_mut().enumerate() {
                let at = 4 + i * 8;
                *w = i64::from_ne_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]));
            }
            Some((status, ResourceUsage::from_words(&words)))
        }
        _ => None,
    }
}
