//! Arranging the program's descriptors (**child**): stdio and passed descriptors at their
//! numbers, every other one close-on-exec. Async-signal-safe: no allocation.

use std::os::fd::RawFd;

use nix::errno::Errno;

use crate::sys::child as sys;

/// Puts each source descriptor at its target, then marks every other descriptor close-on-exec.
/// Sources are first copied above every number in play (from `scratch` up), so no move can
/// clobber a source that is still to be moved.
pub(crate) fn arrange(moves: &[(RawFd, RawFd)], scratch: RawFd) -> Result<(), Errno> {
    for (i, (src, _)) in moves.iter().enumerate() {
        sys::dup3(*src, scratch.wrapping_add(i as RawFd), libc::O_CLOEXEC)?;
    }
    for (i, (_, dst)) in moves.iter().enumerate() {
        sys::dup3(scratch.wrapping_add(i as RawFd), *dst, 0)?;
    }
    cloexec_from_3()?;
    for (_, dst) in moves.iter().filter(|(_, dst)| *dst >= 3) {
        sys::fcntl(*dst, libc::F_SETFD, 0)?;
    }
    Ok(())
}

/// close_range(3, ~0, CLOSE_RANGE_CLOEXEC), or on kernels before 5.11 a loop up to the
/// descriptor limit.
fn cloexec_from_3() -> Result<(), Errno> {
    match sys::close_range(3, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) {
        Err(Errno::ENOSYS | Errno::EINVAL) => {
            for fd in 3..65536 {
                match sys::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) {
                    Ok(_) | Err(Errno::EBADF) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }
        other => other,
    }
}
