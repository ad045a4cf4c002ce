//! Writing the sandbox's sysctls (**child**): open, write, read back. Async-signal-safe: the
//! paths and values were made by the parent; the read-back buffer is on the stack.

use nix::errno::Errno;

use super::SysctlPlan;
use crate::sys::child as sys;

/// The longest value taken (one page of /proc/sys is far more; this keeps the buffer small).
pub(crate) const VALUE_MAX: usize = 256;

/// Each setting in turn; a failure is its index and errno. A value the kernel reads back
/// otherwise (beyond whitespace) is EINVAL: it did not take it as given.
pub(crate) fn write_all(plan: &SysctlPlan) -> Result<(), (usize, Errno)> {
    for (index, (_, path, value)) in plan.entries.iter().enumerate() {
        write_one(path, value.as_bytes()).map_err(|errno| (index, errno))?;
    }
    Ok(())
}

fn write_one(path: &std::ffi::CStr, value: &[u8]) -> Result<(), Errno> {
    let flags = libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW;
    let fd = sys::openat(libc::AT_FDCWD, path, flags, 0)?;
    let written = sys::write(fd, value);
    let _ = sys::close(fd);
    if written? != value.len() {
        return Err(Errno::EIO);
    }
    let fd = sys::openat(libc::AT_FDCWD, path, libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW, 0)?;
    let mut buf = [0u8; VALUE_MAX + 1];
    let read = sys::read(fd, &mut buf);
    let _ = sys::close(fd);
    let read = read?;
    if same_words(&buf[..read], value) {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

/// Whether `a` and `b` hold the same words, whatever whitespace separates them (the kernel
/// writes `kernel.sem` back with tabs).
fn same_words(a: &[u8], b: &[u8]) -> bool {
    let mut a = a.split(|c| c.is_ascii_whitespace()).filter(|w| !w.is_empty());
    let mut b = b.split(|c| c.is_ascii_whitespace()).filter(|w| !w.is_empty());
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x == y => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_compare_across_whitespace() {
        assert!(same_words(b"250\t32000\t32\t128\n", b"250 32000 32 128"));
        assert!(same_words(b"1\n", b"1"));
        assert!(!same_words(b"0\n", b"1"));
        assert!(!same_words(b"1 2\n", b"1"));
    }
}
