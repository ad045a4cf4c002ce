//! Extended attributes for the **parent** (nix has none): the overlay "opaque" mark an
//! unpacked layer's directories carry.
//!
//! # Safety
//! The one `unsafe` block is `fsetxattr` on a live descriptor with a NUL-terminated name and
//! a value slice that outlive the call.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Sets `name` to `value` on the file open at `fd` (not an O_PATH descriptor).
pub fn set(fd: BorrowedFd<'_>, name: &CStr, value: &[u8]) -> io::Result<()> {
    // SAFETY: `name` is NUL-terminated and `value` valid for its length, both for the call.
    let r = unsafe { libc::fsetxattr(fd.as_raw_fd(), name.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
