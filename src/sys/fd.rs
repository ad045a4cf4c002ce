//! Descriptor helpers for the **parent**.
//!
//! # Safety
//! The one `unsafe` block takes ownership of a descriptor the kernel just returned.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Duplicates `fd` to the lowest free number at or above `min`, close-on-exec.
pub fn dup_at_or_above(fd: BorrowedFd<'_>, min: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC takes an int argument and touches no memory.
    let new = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, min) };
    if new < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `new` was just created by fcntl and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// Reads until `len` bytes or EOF, whichever comes first.
pub fn read_up_to(fd: BorrowedFd<'_>, len: usize) -> io::Result<Vec<u8>> {
    let mut out = vec![0u8; len];
    let mut got = 0;
    while got < len {
        match nix::unistd::read(fd.as_raw_fd(), &mut out[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    out.truncate(got);
    Ok(out)
}

/// Reads `fd` until EOF (a pipe or socket the other side closes at exec, or with a report).
pub fn read_to_eof(fd: BorrowedFd<'_>) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        match nix::unistd::read(fd.as_raw_fd(), &mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// `openat2(dir, path, how)`, the descriptor owned: the parent's resolution of a path beneath
/// a directory it holds (unpacking a layer).
pub fn openat2(dir: BorrowedFd<'_>, path: &std::ffi::OsStr, how: nix::fcntl::OpenHow) -> nix::Result<OwnedFd> {
    let fd = nix::fcntl::openat2(dir.as_raw_fd(), path, how)?;
    // SAFETY: the kernel just made `fd` for this call and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
