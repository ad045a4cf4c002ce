//! Seccomp user notification for the **parent**: taking the child's listener with
//! pidfd_getfd(2), and the listener's ioctls (libc calls: this is the parent's side, errno is
//! its own).
//!
//! # Safety
//! Each `unsafe` block is one system call (pidfd_getfd, or ioctl on the listener) over a
//! descriptor the caller borrows and a struct on this stack frame of the exact type the
//! request names; the kernel writes only into that struct (RECV) or only reads it (SEND,
//! ID_VALID). A descriptor pidfd_getfd returns is new and owned by nobody else.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};

/// pidfd_getfd(pidfd, fd, 0) (Linux 5.6): a copy of descriptor `fd` of the process behind
/// `pidfd`, close-on-exec. Needs ptrace rights (PTRACE_MODE_ATTACH_REALCREDS) over it.
pub fn pidfd_getfd(pidfd: BorrowedFd<'_>, fd: RawFd) -> Result<OwnedFd, Errno> {
    // SAFETY: plain integers in; the kernel returns a new descriptor or -1 with errno.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) };
    if ret < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just made this descriptor for us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as RawFd) })
}

/// Waits until a notification is pending (`true`) or no process uses the filter any more
/// (`false`: POLLHUP without POLLIN). Retries EINTR.
pub fn wait_pending(listener: BorrowedFd<'_>) -> Result<bool, Errno> {
    loop {
        let mut fds = [PollFd::new(listener, PollFlags::POLLIN)];
        match nix::poll::poll(&mut fds, PollTimeout::NONE) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
            Ok(_) => {
                let got = fds[0].revents().unwrap_or(PollFlags::empty());
                if got.contains(PollFlags::POLLIN) {
                    return Ok(true);
                }
                if got.intersects(PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL) {
                    return Ok(false);
                }
            }
        }
    }
}

/// SECCOMP_IOCTL_NOTIF_RECV: the next notification (blocks until one is pending).
pub fn recv(listener: BorrowedFd<'_>) -> Result<libc::seccomp_notif, Errno> {
    // SAFETY: an all-zero seccomp_notif is a valid value (plain integers), and the kernel
    // requires it zeroed.
    let mut notif: libc::seccomp_notif = unsafe { std::mem::zeroed() };
    // SAFETY: RECV writes one seccomp_notif through the pointer, which points at ours.
    let ret = unsafe { libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_RECV, &mut notif) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(notif)
}

/// SECCOMP_IOCTL_NOTIF_SEND: answers notification `id` with `val` and `error` (a negative
/// errno or 0) and `flags` (SECCOMP_USER_NOTIF_FLAG_CONTINUE or 0).
pub fn send(listener: BorrowedFd<'_>, id: u64, val: i64, error: i32, flags: u32) -> Result<(), Errno> {
    let mut resp = libc::seccomp_notif_resp { id, val, error, flags };
    // SAFETY: SEND reads one seccomp_notif_resp through the pointer, which points at ours.
    let ret = unsafe { libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_SEND, &mut resp) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// SECCOMP_IOCTL_NOTIF_ID_VALID: whether notification `id` is still pending (its target has
/// not died or been interrupted). ENOENT is `false`.
pub fn id_valid(listener: BorrowedFd<'_>, id: u64) -> Result<bool, Errno> {
    let mut id = id;
    // SAFETY: ID_VALID reads one u64 through the pointer, which points at ours.
    let ret = unsafe { libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_ID_VALID, &mut id) };
    match ret {
        0.. => Ok(true),
        _ => match Errno::last() {
            Errno::ENOENT => Ok(false),
            e => Err(e),
        },
    }
}
