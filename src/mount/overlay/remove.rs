//! Removing a spawn's upper directory (**parent**) by descriptor only: the tree is the
//! sandbox's, which may have made any entry a symlink to a host path, or may swap one between
//! a directory and a symlink while it is walked. Every step is one component relative to a
//! directory held open (`sys::tree`): opened with `O_NOFOLLOW | O_DIRECTORY`, made writable
//! with `fchmod` on its own descriptor, its entries unlinked with `unlinkat` from it. No path
//! is resolved again, so nothing outside the tree is opened, changed or removed.
//!
//! Iterative, with two descriptors open at most: going down, a directory's descriptor replaces
//! its parent's (the subdirectories still to visit are kept by name); going back up, `..` is
//! opened and must be the directory left (device and inode), else the walk stops.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::sys::stat::{fchmod, fstat, fstatat, Mode, SFlag};
use nix::unistd::{unlinkat, UnlinkatFlags};

use crate::sys::tree::{self, Kind};

/// A directory on the way down: its name in its parent, its identity, the subdirectories of
/// it still to remove.
struct Level {
    name: CString,
    id: (u64, u64),
    pending: Vec<CString>,
}

/// What a name in a directory turned out to be when opened.
enum Opened {
    Dir(OwnedFd),
    NotDir,
    Gone,
}

/// Removes `name` in `parent` and, if it is a directory, everything in it. Directories without
/// permissions (overlayfs's `work/work` is mode 0) are given rwx to their owner on the way.
pub(crate) fn remove_tree_at(parent: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    let mut cur = match open(parent, name)? {
        Opened::Dir(fd) => fd,
        Opened::NotDir => return unlink(parent, name, false),
        Opened::Gone => return Ok(()),
    };
    let mut levels = vec![enter(&cur, name.to_owned())?];
    while let Some(level) = levels.last_mut() {
        if let Some(sub) = level.pending.pop() {
            match open(cur.as_fd(), &sub)? {
                Opened::Dir(fd) => {
                    levels.push(enter(&fd, sub)?);
                    cur = fd;
                }
                Opened::NotDir => unlink(cur.as_fd(), &sub, false)?,
                Opened::Gone => {}
            }
            continue;
        }
        let done = levels.pop().map(|l| l.name).unwrap_or_default();
        let Some(above) = levels.last() else {
            return unlink(parent, &done, true);
        };
        let up = tree::open_dir_at(cur.as_fd(), c"..", true)?;
        if id(&up)? != above.id {
            return Err(io::Error::other("a directory of the upper moved out of its parent while it was removed"));
        }
        unlink(up.as_fd(), &done, true)?;
        cur = up;
    }
    Ok(())
}

/// Opens `name` in `dir` as a directory if it is one, never following a symlink; one without
/// read permission is opened as `O_PATH`, given rwx to its owner, and reopened from itself.
fn open(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<Opened> {
    let what = |e: io::Error| match e.raw_os_error() {
        Some(libc::ENOENT) => Ok(Opened::Gone),
        Some(libc::ENOTDIR | libc::ELOOP) => Ok(Opened::NotDir),
        _ => Err(e),
    };
    match tree::open_dir_at(dir, name, false) {
        Ok(fd) => Ok(Opened::Dir(fd)),
        Err(e) if e.raw_os_error() == Some(libc::EACCES) => {
            let held = match tree::open_dir_at(dir, name, true) {
                Ok(fd) => fd,
                Err(e) => return what(e),
            };
            tree::chmod_fd(held.as_fd(), 0o700)?;
            tree::open_dir_at(held.as_fd(), c".", false).map(Opened::Dir)
        }
        Err(e) => what(e),
    }
}

/// Makes the directory open at `fd` writable to its owner if it is not, removes every entry
/// of it but its subdirectories, and lists those.
fn enter(fd: &OwnedFd, name: CString) -> io::Result<Level> {
    let stat = fstat(fd.as_raw_fd())?;
    if stat.st_mode & 0o700 != 0o700 {
        // Best effort: host root needs no permission, and a directory of another owner's
        // fails to be emptied below with the kernel's reason.
        let _ = fchmod(fd.as_raw_fd(), Mode::from_bits_truncate(0o700));
    }
    let mut pending = Vec::new();
    for (entry, kind) in tree::entries(fd.as_fd())? {
        let is_dir = match kind {
            Kind::Dir => true,
            Kind::Unknown => fstatat(Some(fd.as_raw_fd()), entry.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
                .is_ok_and(|s| SFlag::from_bits_truncate(s.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR),
            Kind::Other => false,
        };
        if is_dir {
            pending.push(entry);
            continue;
        }
        match unlinkat(Some(fd.as_raw_fd()), entry.as_c_str(), UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(Errno::ENOENT) => {}
            // It became a directory since it was listed: visit it.
            Err(Errno::EISDIR) => pending.push(entry),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Level { name, id: (stat.st_dev, stat.st_ino), pending })
}

fn id(fd: &OwnedFd) -> io::Result<(u64, u64)> {
    let stat = fstat(fd.as_raw_fd())?;
    Ok((stat.st_dev, stat.st_ino))
}

fn unlink(dir: BorrowedFd<'_>, name: &CStr, is_dir: bool) -> io::Result<()> {
    let flag = if is_dir { UnlinkatFlags::RemoveDir } else { UnlinkatFlags::NoRemoveDir };
    match unlinkat(Some(dir.as_raw_fd()), name, flag) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
#[path = "remove_tests.rs"]
mod tests;
