//! The file system side of unpacking (**parent**): every path is resolved from the layer's
//! directory, one component at a time, with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`,
//! so no entry can reach outside the layer or through a symlink, whatever the archive made
//! before it; creations are `*at` calls on the resolved parent, never following the last
//! component.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstatat, Mode, SFlag};
use nix::unistd::UnlinkatFlags;

use crate::image::error::{io, UnpackErrorKind};

/// `dir` for nix's `*at` calls (never `None`, which would mean the working directory).
pub(crate) fn at(dir: BorrowedFd<'_>) -> Option<RawFd> {
    Some(dir.as_raw_fd())
}

/// How one component is resolved: beneath its directory, no symlink, no magic link.
fn how(flags: OFlag, mode: u32) -> OpenHow {
    OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
        .mode(Mode::from_bits_truncate(mode))
        .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS | ResolveFlag::RESOLVE_NO_MAGICLINKS)
}

fn open(dir: BorrowedFd<'_>, name: &OsStr, flags: OFlag, mode: u32) -> Result<OwnedFd, Errno> {
    loop {
        match crate::sys::fd::openat2(dir, name, how(flags, mode)) {
            Err(Errno::EAGAIN | Errno::EINTR) => continue, // a rename elsewhere raced the lookup
            other => return other,
        }
    }
}

/// Opens the directory `name` in `dir`: O_PATH, or for reading (xattrs) with `read`.
pub(crate) fn open_dir(dir: BorrowedFd<'_>, name: &OsStr, read: bool) -> Result<OwnedFd, Errno> {
    open(dir, name, OFlag::O_DIRECTORY | if read { OFlag::O_RDONLY } else { OFlag::O_PATH }, 0)
}

/// Creates the regular file `name` in `dir` (it must not exist), for writing.
pub(crate) fn create_file(dir: BorrowedFd<'_>, name: &OsStr, mode: u32) -> Result<File, UnpackErrorKind> {
    let flags = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL;
    open(dir, name, flags, mode).map(File::from).map_err(io("creating a file"))
}

/// What [`dir_of`] does with a directory of the path that is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
    /// Fails (ENOENT).
    Fail,
    /// Makes it (mode 0755), owned by the caller, or by these ids (`UnpackOptions::id_shift`:
    /// the layer's root as the sandbox sees it).
    Make(Option<(u32, u32)>),
}

/// The directory `parts` below `root`, made as needed (mode 0755).
pub(crate) fn dir_of(root: BorrowedFd<'_>, parts: &[OsString], missing: Missing) -> Result<OwnedFd, UnpackErrorKind> {
    let mut cur =
        root.try_clone_to_owned().map_err(|e| UnpackErrorKind::Io { op: "copying a descriptor", source: e })?;
    for part in parts {
        let next = match open_dir(cur.as_fd(), part, false) {
            Err(Errno::ENOENT) if missing != Missing::Fail => {
                match nix::sys::stat::mkdirat(at(cur.as_fd()), part.as_os_str(), Mode::from_bits_truncate(0o755)) {
                    Ok(()) => made_owner(cur.as_fd(), part, missing)?,
                    Err(Errno::EEXIST) => {}
                    Err(e) => return Err(io("mkdirat")(e)),
                }
                open_dir(cur.as_fd(), part, false)
            }
            other => other,
        };
        cur = next.map_err(|e| match e {
            // A symlink (ELOOP, or EXDEV for one that would leave), or a file, where a
            // directory of the path should be.
            Errno::ELOOP | Errno::EXDEV | Errno::ENOTDIR => UnpackErrorKind::ThroughSymlink,
            e => io("opening a parent directory")(e),
        })?;
    }
    Ok(cur)
}

/// Gives a directory [`dir_of`] just made the owner `missing` names, if any.
fn made_owner(dir: BorrowedFd<'_>, name: &OsStr, missing: Missing) -> Result<(), UnpackErrorKind> {
    let Missing::Make(Some((uid, gid))) = missing else { return Ok(()) };
    let (uid, gid) = (nix::unistd::Uid::from_raw(uid), nix::unistd::Gid::from_raw(gid));
    nix::unistd::fchownat(at(dir), name, Some(uid), Some(gid), AtFlags::AT_SYMLINK_NOFOLLOW).map_err(io("fchownat"))
}

/// What is at `name` in `dir`, not following a symlink: `None` if nothing.
pub(crate) fn kind_at(dir: BorrowedFd<'_>, name: &OsStr) -> Result<Option<SFlag>, UnpackErrorKind> {
    match fstatat(at(dir), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()))),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(io("fstatat")(e)),
    }
}

/// Makes room for a new non-directory entry `name`: an old one (file, link, device) goes, a
/// directory is refused.
pub(crate) fn clear_for_file(dir: BorrowedFd<'_>, name: &OsStr) -> Result<(), UnpackErrorKind> {
    match kind_at(dir, name)? {
        None => Ok(()),
        Some(SFlag::S_IFDIR) => Err(UnpackErrorKind::ReplacesDirectory),
        Some(_) => nix::unistd::unlinkat(at(dir), name, UnlinkatFlags::NoRemoveDir).map_err(io("unlinkat")),
    }
}
