//! The user-mode network helper's start (**parent**): what its forked process does before it
//! executes pasta or slirp4netns, and the memory file its stderr goes to.
//!
//! # Safety
//! [`harden_before_exec`] installs a `pre_exec` hook, which runs in the forked child of a
//! multi-threaded process: it only issues system calls (`prctl`, `getppid`, `close_range`,
//! `fcntl`) on values copied into the closure, and allocates nothing. The memfd block passes a
//! NUL-terminated literal and takes ownership of the descriptor the kernel just returned.

use std::fs::File;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// The most descriptors a helper inherits besides 0, 1 and 2.
pub const MAX_KEPT: usize = 4;

/// Makes the helper started by `cmd` die with this process (`PR_SET_PDEATHSIG` SIGKILL,
/// checked against a parent that died before it was set) and inherit no descriptor above 2
/// but `keep` (every other is marked close-on-exec, whoever opened it).
///
/// The death signal follows the *thread* that forks, so the caller forks from a thread that
/// lives as long as the process.
pub fn harden_before_exec(cmd: &mut Command, keep: &[RawFd]) {
    let mut kept = [-1; MAX_KEPT];
    for (slot, fd) in kept.iter_mut().zip(keep) {
        *slot = *fd;
    }
    let parent = std::process::id() as libc::pid_t;
    let hook = move || -> io::Result<()> {
        // SAFETY: prctl with integer arguments touches no memory of ours.
        if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: getppid takes nothing and cannot fail.
        if unsafe { libc::getppid() } != parent {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        // SAFETY: close_range with integer arguments; CLOSE_RANGE_CLOEXEC closes nothing now.
        let marked = unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) };
        if marked != 0 {
            return Err(io::Error::last_os_error());
        }
        for fd in kept.into_iter().filter(|fd| *fd >= 0) {
            // SAFETY: F_SETFD with an integer flag word touches no memory.
            if unsafe { libc::fcntl(fd, libc::F_SETFD, 0) } != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    };
    // SAFETY: the hook is async-signal-safe: raw system calls over copied integers, no
    // allocation, no lock (see the module's Safety section).
    unsafe { cmd.pre_exec(hook) };
}

/// A close-on-exec memory file for a helper's stderr, read back if it fails.
pub fn stderr_file() -> io::Result<File> {
    const NAME: &[u8] = b"isobox-usernet-stderr\0";
    // SAFETY: NAME is NUL-terminated and static.
    let mut fd = unsafe { libc::memfd_create(NAME.as_ptr().cast(), libc::MFD_CLOEXEC | libc::MFD_NOEXEC_SEAL) };
    if fd < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
        // Kernels before 6.3 know no MFD_NOEXEC_SEAL.
        // SAFETY: as above.
        fd = unsafe { libc::memfd_create(NAME.as_ptr().cast(), libc::MFD_CLOEXEC) };
    }
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: memfd_create just returned this descriptor; nothing else owns it.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}
