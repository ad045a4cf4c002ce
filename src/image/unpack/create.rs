//! Creating one entry in its (resolved) directory (**parent**): `*at` calls that never follow
//! the entry's own name; a regular file's owner and mode go through its descriptor.

use std::ffi::OsStr;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;

use nix::sys::stat::{FchmodatFlags, Mode, SFlag};
use nix::unistd::{Gid, Uid};
use tar::EntryType;

use super::fs::{self, at};
use super::header::Item;
use super::name;
use super::{UnpackOptions, UnpackReport};
use crate::image::error::{capped, io, UnpackErrorKind};

/// What `create` made.
pub(crate) enum Created {
    /// A directory, whose own mode (returned) is applied last.
    Directory(u32),
    Other,
    /// Nothing: a device, by policy.
    Skipped,
}

/// An entry's mode and, with `owners`, its owner.
struct Meta {
    mode: u32,
    owner: Option<(Uid, Gid)>,
}

fn meta(header: &tar::Header, options: &UnpackOptions) -> Result<Meta, UnpackErrorKind> {
    let mode = header.mode().map_err(UnpackErrorKind::Archive)?;
    // Without owners, setuid and setgid go (the files are the caller's).
    let mode = if options.owners { mode & 0o7777 } else { mode & 0o1777 };
    if !options.owners {
        return Ok(Meta { mode, owner: None });
    }
    let id = |n: std::io::Result<u64>| -> Result<u32, UnpackErrorKind> {
        let n = n.map_err(UnpackErrorKind::Archive)?;
        // u32::MAX would mean "leave unchanged" to chown.
        u32::try_from(n).ok().filter(|n| *n != u32::MAX).ok_or_else(|| {
            UnpackErrorKind::Archive(std::io::Error::new(std::io::ErrorKind::InvalidData, "an owner id past 32 bits"))
        })
    };
    let (uid, gid) = (id(header.uid())?, id(header.gid())?);
    let (uid, gid) = match options.id_shift {
        Some(shift) => (shift.uid_of(uid), shift.gid_of(gid)),
        None => (uid, gid),
    };
    Ok(Meta { mode, owner: Some((Uid::from_raw(uid), Gid::from_raw(gid))) })
}

/// Creates `name` in `dir` as `item` says.
pub(crate) fn create(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    item: &mut Item<'_>,
    root: BorrowedFd<'_>,
    options: &UnpackOptions,
    report: &mut UnpackReport,
) -> Result<Created, UnpackErrorKind> {
    let header = item.meta.header.clone();
    let meta = meta(&header, options)?;
    match header.entry_type() {
        EntryType::Directory => return directory(dir, name, &meta).map(|()| Created::Directory(meta.mode)),
        EntryType::Regular | EntryType::Continuous => report.bytes += file(dir, name, &meta, item)?,
        EntryType::Symlink => {
            let target = item.meta.link.clone().ok_or(UnpackErrorKind::NoLinkTarget)?;
            fs::clear_for_file(dir, name)?;
            nix::unistd::symlinkat(OsStr::from_bytes(&target), at(dir), name).map_err(io("symlinkat"))?;
            chown_at(dir, name, &meta)?;
        }
        EntryType::Link => {
            let target = item.meta.link.clone().ok_or(UnpackErrorKind::NoLinkTarget)?;
            hard_link(dir, name, &target, root)?; // the target's owner and mode are the link's
        }
        EntryType::Char | EntryType::Block if !options.devices => {
            report.devices_skipped += 1;
            return Ok(Created::Skipped);
        }
        kind @ (EntryType::Fifo | EntryType::Char | EntryType::Block) => node(dir, name, &meta, kind, &header)?,
        other => return Err(UnpackErrorKind::Unsupported(other.as_byte())),
    }
    Ok(Created::Other)
}

/// With owners: the owner of `name` (not following it, a symlink included).
fn chown_at(dir: BorrowedFd<'_>, name: &OsStr, meta: &Meta) -> Result<(), UnpackErrorKind> {
    let Some((uid, gid)) = meta.owner else { return Ok(()) };
    let flags = nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW;
    nix::unistd::fchownat(at(dir), name, Some(uid), Some(gid), flags).map_err(io("fchownat"))
}

/// A directory, made (or kept, or put in place of a file or link of this layer) at least
/// 0700 until the layer's end; its owner now.
fn directory(dir: BorrowedFd<'_>, name: &OsStr, meta: &Meta) -> Result<(), UnpackErrorKind> {
    let mkdir = || nix::sys::stat::mkdirat(at(dir), name, Mode::from_bits_truncate(0o700)).map_err(io("mkdirat"));
    match fs::kind_at(dir, name)? {
        Some(SFlag::S_IFDIR) => {}
        Some(_) => {
            // A directory replacing a file or link of this layer: the later entry wins.
            nix::unistd::unlinkat(at(dir), name, nix::unistd::UnlinkatFlags::NoRemoveDir).map_err(io("unlinkat"))?;
            mkdir()?;
        }
        None => mkdir()?,
    }
    let own = fs::open_dir(dir, name, true).map_err(io("opening a directory"))?;
    if let Some((uid, gid)) = meta.owner {
        nix::unistd::fchown(own.as_raw_fd(), Some(uid), Some(gid)).map_err(io("fchown"))?;
    }
    nix::sys::stat::fchmod(own.as_raw_fd(), Mode::from_bits_truncate(meta.mode | 0o700)).map_err(io("fchmod"))
}

/// A regular file, its contents, then its owner and mode through its own descriptor (chown
/// clears setuid, so the mode comes last).
fn file(dir: BorrowedFd<'_>, name: &OsStr, meta: &Meta, item: &mut Item<'_>) -> Result<u64, UnpackErrorKind> {
    fs::clear_for_file(dir, name)?;
    let mut out = fs::create_file(dir, name, 0o600)?;
    let size = item.meta.size;
    let copied = std::io::copy(&mut (&mut item.data).take(size), &mut out).map_err(UnpackErrorKind::Archive)?;
    if copied != size {
        let cut = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("{copied} of {size} bytes"));
        return Err(UnpackErrorKind::Archive(cut));
    }
    if let Some((uid, gid)) = meta.owner {
        nix::unistd::fchown(out.as_raw_fd(), Some(uid), Some(gid)).map_err(io("fchown"))?;
    }
    nix::sys::stat::fchmod(out.as_raw_fd(), Mode::from_bits_truncate(meta.mode)).map_err(io("fchmod"))?;
    Ok(copied)
}

/// A FIFO or device node, its owner, then its mode (mknod's is cut by the umask).
fn node(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    meta: &Meta,
    kind: EntryType,
    header: &tar::Header,
) -> Result<(), UnpackErrorKind> {
    let (sflag, dev) = match kind {
        EntryType::Fifo => (SFlag::S_IFIFO, 0),
        _ => {
            let major = header.device_major().map_err(UnpackErrorKind::Archive)?.unwrap_or(0);
            let minor = header.device_minor().map_err(UnpackErrorKind::Archive)?.unwrap_or(0);
            let sflag = if kind == EntryType::Char { SFlag::S_IFCHR } else { SFlag::S_IFBLK };
            (sflag, nix::sys::stat::makedev(u64::from(major), u64::from(minor)))
        }
    };
    fs::clear_for_file(dir, name)?;
    let mode = Mode::from_bits_truncate(meta.mode);
    nix::sys::stat::mknodat(at(dir), name, sflag, mode, dev).map_err(io("mknodat"))?;
    chown_at(dir, name, meta)?;
    // The node just made (no symlink, and nothing else writes here): chmod follows nothing.
    nix::sys::stat::fchmodat(at(dir), name, mode, FchmodatFlags::FollowSymlink).map_err(io("fchmodat"))
}

/// A hard link to an earlier regular file of this layer, resolved as every entry's path is.
fn hard_link(dir: BorrowedFd<'_>, name: &OsStr, target: &[u8], root: BorrowedFd<'_>) -> Result<(), UnpackErrorKind> {
    let wrong = || UnpackErrorKind::HardlinkTarget { target: capped(OsStr::from_bytes(target)) };
    let to = name::parse(target).map_err(|_| wrong())?;
    let to_dir = fs::dir_of(root, &to.parent, fs::Missing::Fail).map_err(|_| wrong())?;
    if fs::kind_at(to_dir.as_fd(), &to.last)? != Some(SFlag::S_IFREG) {
        return Err(wrong());
    }
    fs::clear_for_file(dir, name)?;
    let flags = nix::fcntl::AtFlags::empty(); // the target is a regular file: nothing to follow
    nix::unistd::linkat(at(to_dir.as_fd()), to.last.as_os_str(), at(dir), name, flags).map_err(io("linkat"))
}
