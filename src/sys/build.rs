//! Reading extended attributes for the **parent** (nix has none): the overlay marks of an
//! upper directory that a commit turns into a layer (`overlay.opaque`, and the redirect and
//! metacopy marks a layer cannot express).
//!
//! # Safety
//! The one `unsafe` block is `fgetxattr` on a live descriptor with a NUL-terminated name, into
//! a buffer whose pointer and length are passed together and which outlives the call.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// The most of a value read: the marks read here are a few bytes (`y`), or a path (a redirect).
const MAX_VALUE: usize = 4096;

/// The value of `name` on the file open at `fd` (not an O_PATH descriptor), at most 4 KiB of
/// it; `None` when the file has no such attribute or the file system none at all.
pub fn get(fd: BorrowedFd<'_>, name: &CStr) -> io::Result<Option<Vec<u8>>> {
    let mut buf = vec![0u8; MAX_VALUE];
    // SAFETY: `name` is NUL-terminated and `buf` is valid for `buf.len()` bytes, both for the call.
    let r = unsafe { libc::fgetxattr(fd.as_raw_fd(), name.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if r >= 0 {
        buf.truncate(r as usize);
        return Ok(Some(buf));
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        // No such attribute; no xattrs on this file system; a value past the buffer (a redirect
        // longer than any path, still a mark: report what fits).
        Some(libc::ENODATA | libc::ENOTSUP) => Ok(None),
        Some(libc::ERANGE) => Ok(Some(buf)),
        _ => Err(e),
    }
}
