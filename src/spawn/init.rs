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
        let (exe, exe_copy) = crate::sys::init_exe::init_fd_at_or_above(top_target.saturating_add(1))
            .map_err(SpawnError::io("making isobox's init executable"))?;
        let stack = Stack::take().map_err(SpawnError::io("mapping the program's stack"))?;
        Ok(InitSpawn { status_read, status_write, exe_copy, exe, stack })
    }

    /// The descriptors and the stack, as the child's plan holds them.
    pub fn child_view(&self) -> (RawFd, RawFd, ProgramStack) {
        let stack = ProgramStack { base: self.stack.base as usize, len: self.stack.len };
        (self.exe, self.status_write.as_raw_fd(), stack)
    }

    /// Once the child has exec'd or died: the status pipe's read end, for the `Child`.
    pub fn finish(self) -> OwnedFd {
        let InitSpawn { status_read, status_write, exe_copy, stack, .. } = self;
        drop((status_write, exe_copy));
        stack.give_back(); // neither the first process nor the program runs on it any more
        status_read
    }
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
