//! Reading an extended attribute by path for the **parent** (nix has none): whether a layer's
//! directory is an overlay "opaque" one, when an image's `/etc/passwd` is looked up.
//!
//! # Safety
//! The one `unsafe` block is `lgetxattr` with a NUL-terminated path and name and a buffer
//! whose length it is given, all of which outlive the call.

use std::ffi::CStr;
use std::io;

/// The value of `name` on `path` (not following a symlink) into `buf`: its length, or `None`
/// when the file has no such attribute (or the filesystem no xattrs).
pub fn get(path: &CStr, name: &CStr, buf: &mut [u8]) -> io::Result<Option<usize>> {
    // SAFETY: `path` and `name` are NUL-terminated; the kernel writes at most `buf.len()` bytes.
    let r = unsafe { libc::lgetxattr(path.as_ptr(), name.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if r >= 0 {
        return Ok(Some(r as usize));
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::ENODATA | libc::ENOTSUP) => Ok(None),
        // A value longer than `buf`: present, but not the one looked for.
        Some(libc::ERANGE) => Ok(Some(buf.len() + 1)),
        _ => Err(e),
    }
}
