//! Arranging the program's descriptors (**child**): stdio and passed descriptors at their
//! numbers, every other one closed. Async-signal-safe: no allocation.

use std::os::fd::RawFd;

use nix::errno::Errno;

use crate::sys::child as sys;

/// Puts each source descriptor at its target, then closes every descriptor not in `keep`
/// (ascending: the targets and the control pipes' ends still in use). Sources are first copied
/// above every number in play (from `scratch` up), so no move can clobber a source that is
/// still to be moved. Closing the caller's copies now, not at exec, leaves low numbers free for
/// the descriptors the child still makes (a Landlock ruleset, a seccomp listener) under the
/// program's open-files limit, which is set next.
pub(crate) fn arrange(moves: &[(RawFd, RawFd)], scratch: RawFd, keep: &[RawFd]) -> Result<(), Errno> {
    for (i, (src, _)) in moves.iter().enumerate() {
        sys::dup3(*src, scratch.wrapping_add(i as RawFd), libc::O_CLOEXEC)?;
    }
    for (i, (_, dst)) in moves.iter().enumerate() {
        sys::dup3(scratch.wrapping_add(i as RawFd), *dst, 0)?;
    }
    close_all_but(keep)
}

/// Closes every descriptor but those in `keep` (ascending), stdio included: what isobox's
/// init keeps of the first process's descriptors.
pub(crate) fn close_all_from_zero_but(keep: &[RawFd]) -> Result<(), Errno> {
    close_from_but(0, keep)
}

/// Closes every descriptor from 3 up but those in `keep` (ascending), one close_range per gap.
fn close_all_but(keep: &[RawFd]) -> Result<(), Errno> {
    close_from_but(3, keep)
}

fn close_from_but(from: u32, keep: &[RawFd]) -> Result<(), Errno> {
    let mut first: u32 = from;
    for fd in keep.iter().filter(|fd| **fd >= from as RawFd).map(|fd| *fd as u32) {
        if fd > first {
            close_between(first, fd - 1)?;
        }
        first = first.max(fd.saturating_add(1));
    }
    close_between(first, u32::MAX)
}

/// close_range(first, last) (Linux 5.9), or on older kernels, and under an early seccomp
/// filter that refuses it (an OCI profile older than the call), a close of each descriptor
/// up to the hard open-files limit (at most 2^20).
fn close_between(first: u32, last: u32) -> Result<(), Errno> {
    if first > last {
        return Ok(());
    }
    match sys::close_range(first, last, 0) {
        // EINVAL, its only other error, cannot be: first <= last and no flags.
        Err(_) => {
            for fd in first..=last.min(sys::nofile_hard().min(1 << 20) as u32) {
                let _ = sys::close(fd as RawFd); // EBADF: not open
            }
            Ok(())
        }
        other => other,
    }
}
