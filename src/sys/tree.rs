//! Directory calls by descriptor for the **parent**, to walk and remove a tree that someone
//! else may be changing (an overlay's upper directory): nothing here resolves a path of the
//! tree again, every name is one component relative to a directory held open, and no symlink
//! is followed.
//!
//! # Safety
//! `OwnedFd::from_raw_fd` takes descriptors the kernel has just returned to this call. The
//! system calls go through `child::call`, with integers, a live descriptor, and pointers to a
//! NUL-terminated string or to a buffer that outlive the call (its length passed as it is).

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::child::{call, ptr};

const AT_EMPTY_PATH: usize = libc::AT_EMPTY_PATH as usize;

/// What an entry of a directory is, as `getdents64` says (`DT_UNKNOWN` on some filesystems).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `DT_DIR`.
    Dir,
    /// `DT_UNKNOWN`: ask `fstatat`.
    Unknown,
    /// Anything else (a file, a symlink, a device, a whiteout).
    Other,
}

/// Opens the directory `name` in `dir` (one component, or `.`), never a symlink
/// (`O_NOFOLLOW | O_DIRECTORY`: a symlink is `ELOOP`, or `ENOTDIR` with `O_PATH`; a file
/// `ENOTDIR`), close-on-exec;
/// readable, or as an `O_PATH` descriptor if `path_only` (which needs no permission on it).
pub fn open_dir_at(dir: BorrowedFd<'_>, name: &CStr, path_only: bool) -> io::Result<OwnedFd> {
    let access = if path_only { libc::O_PATH } else { libc::O_RDONLY };
    let flags = access | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    let fd = call(libc::SYS_openat, [dir.as_raw_fd() as usize, ptr(name), flags as usize, 0, 0, 0])?;
    // SAFETY: the kernel just made `fd` for this call and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Every entry of the directory open at `dir` but `.` and `..`, read from its start.
pub fn entries(dir: BorrowedFd<'_>) -> io::Result<Vec<(CString, Kind)>> {
    nix::unistd::lseek(dir.as_raw_fd(), 0, nix::unistd::Whence::SeekSet)?;
    let mut buf = vec![0u8; 32 << 10];
    let mut out = Vec::new();
    loop {
        let len = buf.len();
        let n = call(libc::SYS_getdents64, [dir.as_raw_fd() as usize, buf.as_mut_ptr() as usize, len, 0, 0, 0])?;
        if n == 0 {
            return Ok(out);
        }
        parse(&buf[..n], &mut out);
    }
}

/// The records of one `getdents64` read: `d_ino` (8), `d_off` (8), `d_reclen` (2),
/// `d_type` (1), then the name, NUL-terminated.
fn parse(mut records: &[u8], out: &mut Vec<(CString, Kind)>) {
    const NAME: usize = 19;
    while records.len() > NAME {
        let reclen = usize::from(u16::from_ne_bytes([records[16], records[17]]));
        if reclen <= NAME || reclen > records.len() {
            return;
        }
        let kind = match records[18] {
            libc::DT_DIR => Kind::Dir,
            libc::DT_UNKNOWN => Kind::Unknown,
            _ => Kind::Other,
        };
        let name = &records[NAME..reclen];
        let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
        if name != b"." && name != b".." {
            out.extend(CString::new(name).ok().map(|n| (n, kind)));
        }
        records = &records[reclen..];
    }
}

/// Sets the mode of the file open at `fd`, which may be an `O_PATH` descriptor (on which
/// `fchmod` fails): `fchmodat2(fd, "", mode, AT_EMPTY_PATH)` (Linux 6.6), else a `chmod` of
/// `/proc/self/fd/<fd>`, which the kernel resolves to the open file itself, not by its name.
pub fn chmod_fd(fd: BorrowedFd<'_>, mode: u32) -> io::Result<()> {
    let raw = fd.as_raw_fd() as usize;
    match call(libc::SYS_fchmodat2, [raw, ptr(c""), mode as usize, AT_EMPTY_PATH, 0, 0]) {
        Ok(_) => Ok(()),
        Err(nix::errno::Errno::ENOSYS | nix::errno::Errno::EINVAL) => {
            use std::os::unix::fs::PermissionsExt;
            let magic = format!("/proc/self/fd/{}", fd.as_raw_fd());
            std::fs::set_permissions(magic, std::fs::Permissions::from_mode(mode))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn entries_name_every_entry_with_its_kind_and_a_link_is_not_opened() {
        let base = tempfile::tempdir().unwrap();
        std::fs::create_dir(base.path().join("d")).unwrap();
        std::fs::write(base.path().join("f"), b"").unwrap();
        std::os::unix::fs::symlink("/", base.path().join("l")).unwrap();
        let dir = std::fs::File::open(base.path()).unwrap();
        let mut got = entries(dir.as_fd()).unwrap();
        got.sort();
        let want = [(c"d", Kind::Dir), (c"f", Kind::Other), (c"l", Kind::Other)];
        assert_eq!(got, want.map(|(n, k)| (n.to_owned(), k)));
        for path_only in [false, true] {
            // ELOOP, or with O_PATH (which may open a link itself) ENOTDIR.
            let looped = open_dir_at(dir.as_fd(), c"l", path_only).unwrap_err();
            assert!(matches!(looped.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)), "{looped}");
        }
        let file = open_dir_at(dir.as_fd(), c"f", false).unwrap_err();
        assert_eq!(file.raw_os_error(), Some(libc::ENOTDIR));
    }

    #[test]
    fn chmod_fd_changes_the_directory_held_open() {
        use std::os::unix::fs::PermissionsExt;
        let base = tempfile::tempdir().unwrap();
        std::fs::create_dir(base.path().join("d")).unwrap();
        let dir = std::fs::File::open(base.path()).unwrap();
        let d = open_dir_at(dir.as_fd(), c"d", true).unwrap();
        chmod_fd(d.as_fd(), 0o710).unwrap();
        let mode = std::fs::metadata(base.path().join("d")).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o710);
    }
}
