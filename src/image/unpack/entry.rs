//! Creating one entry (**parent**), and the layer's whiteouts once its entries are in.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use nix::sys::stat::{Mode, SFlag};
use nix::unistd::{Gid, Uid};
use tar::EntryType;

use super::fs::{self, at};
use super::name::{self, Name};
use super::{UnpackOptions, UnpackReport};
use crate::image::error::{io, UnpackErrorKind};

const WHITEOUT: &[u8] = b".wh.";
const OPAQUE: &[u8] = b".wh..wh..opq";

/// A layer being unpacked: its root, the last parent directory used (entries come grouped
/// by directory), and the whiteouts to make once every entry is in (a whiteout hides the
/// layers below, never an entry of its own layer).
pub(crate) struct Layer<'a> {
    root: BorrowedFd<'a>,
    options: UnpackOptions,
    parent: Option<(Vec<OsString>, OwnedFd)>,
    whiteouts: Vec<Name>,
    opaque: Vec<Vec<OsString>>,
}

impl<'a> Layer<'a> {
    pub fn new(root: BorrowedFd<'a>, options: UnpackOptions) -> Self {
        Layer { root, options, parent: None, whiteouts: Vec::new(), opaque: Vec::new() }
    }

    /// Creates `item` (or records it, for a whiteout).
    pub fn add<R: Read>(
        &mut self,
        item: &mut tar::Entry<'_, R>,
        report: &mut UnpackReport,
    ) -> Result<(), UnpackErrorKind> {
        let kind = item.header().entry_type();
        if matches!(
            kind,
            EntryType::XGlobalHeader | EntryType::XHeader | EntryType::GNULongName | EntryType::GNULongLink
        ) {
            return Ok(()); // metadata of the next entries, which the iterator applies
        }
        let name = name::parse(&item.path_bytes())?;
        let last = name.last.as_bytes();
        if last == OPAQUE {
            self.opaque.push(name.parent);
            return Ok(());
        }
        if let Some(hidden) = last.strip_prefix(WHITEOUT) {
            // `.wh..` or `.wh...` would hide `.` or `..`: refused like such a name.
            let hidden = name::parse(hidden)?.last;
            self.whiteouts.push(Name { parent: name.parent, last: hidden });
            return Ok(());
        }
        let dir = self.parent_of(&name.parent)?;
        let created = create(dir.as_fd(), &name.last, item, self.root, &self.options, report)?;
        if created {
            report.entries += 1;
        }
        Ok(())
    }

    /// The (cached) directory of `parts`.
    fn parent_of(&mut self, parts: &[OsString]) -> Result<OwnedFd, UnpackErrorKind> {
        if let Some((cached, fd)) = &self.parent {
            if cached.as_slice() == parts {
                return fd.try_clone().map_err(|source| UnpackErrorKind::Io { op: "copying a descriptor", source });
            }
        }
        let fd = fs::dir_of(self.root, parts, true)?;
        let copy = fd.try_clone().map_err(|source| UnpackErrorKind::Io { op: "copying a descriptor", source })?;
        self.parent = Some((parts.to_vec(), copy));
        Ok(fd)
    }

    /// Makes the recorded whiteouts (where this layer made no entry of that name) and
    /// opaque marks. On failure, the entry it was for.
    pub fn finish(&mut self, report: &mut UnpackReport) -> Result<(), (PathBuf, UnpackErrorKind)> {
        for w in std::mem::take(&mut self.whiteouts) {
            let failed = |kind| (hidden_path(&w), kind);
            let dir = fs::dir_of(self.root, &w.parent, true).map_err(failed)?;
            if fs::kind_at(dir.as_fd(), &w.last).map_err(failed)?.is_some() {
                continue; // an entry of this layer: the whiteout was for the layers below it
            }
            let made = nix::sys::stat::mknodat(at(dir.as_fd()), w.last.as_os_str(), SFlag::S_IFCHR, Mode::empty(), 0);
            made.map_err(io("mknodat (a whiteout)")).map_err(failed)?;
            report.whiteouts += 1;
            report.entries += 1;
        }
        let name: &std::ffi::CStr =
            if self.options.trusted_xattrs { c"trusted.overlay.opaque" } else { c"user.overlay.opaque" };
        for parts in std::mem::take(&mut self.opaque) {
            let failed = |kind| (parts.iter().collect::<PathBuf>(), kind);
            let dir = fs::dir_of(self.root, &parts, true).map_err(failed)?;
            let readable =
                fs::open_dir(dir.as_fd(), OsStr::new("."), true).map_err(io("opening a directory")).map_err(failed)?;
            crate::sys::xattr::set(readable.as_fd(), name, b"y")
                .map_err(|source| failed(UnpackErrorKind::Io { op: "setting the opaque xattr", source }))?;
            report.whiteouts += 1;
            report.entries += 1;
        }
        Ok(())
    }
}

fn hidden_path(n: &Name) -> PathBuf {
    n.parent.iter().chain(std::iter::once(&n.last)).collect()
}

/// Creates `name` in `dir` as `item` says; `false` if it was skipped (a device, by policy).
fn create<R: Read>(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    item: &mut tar::Entry<'_, R>,
    root: BorrowedFd<'_>,
    options: &UnpackOptions,
    report: &mut UnpackReport,
) -> Result<bool, UnpackErrorKind> {
    let header = item.header().clone();
    let mode = header.mode().map_err(UnpackErrorKind::Archive)?;
    let mode = if options.owners { mode & 0o7777 } else { mode & 0o1777 };
    let owner = (header.uid().unwrap_or(0), header.gid().unwrap_or(0));
    match header.entry_type() {
        EntryType::Directory => directory(dir, name, mode)?,
        EntryType::Regular | EntryType::Continuous => report.bytes += file(dir, name, mode, item)?,
        EntryType::Symlink => {
            let target = item.link_name_bytes().ok_or(UnpackErrorKind::NoLinkTarget)?;
            fs::clear_for_file(dir, name)?;
            nix::unistd::symlinkat(OsStr::from_bytes(&target), at(dir), name).map_err(io("symlinkat"))?;
        }
        EntryType::Link => {
            let target = item.link_name_bytes().ok_or(UnpackErrorKind::NoLinkTarget)?;
            hard_link(dir, name, &target, root)?;
            return Ok(true); // the target's owner and mode are the link's
        }
        EntryType::Fifo => {
            fs::clear_for_file(dir, name)?;
            let made = nix::sys::stat::mknodat(at(dir), name, SFlag::S_IFIFO, Mode::from_bits_truncate(mode), 0);
            made.map_err(io("mknodat (a FIFO)"))?;
        }
        EntryType::Char | EntryType::Block if !options.devices => {
            report.devices_skipped += 1;
            return Ok(false);
        }
        kind @ (EntryType::Char | EntryType::Block) => device(dir, name, mode, kind, &header)?,
        other => return Err(UnpackErrorKind::Unsupported(other.as_byte())),
    }
    if options.owners {
        let (uid, gid) = (Uid::from_raw(owner.0 as u32), Gid::from_raw(owner.1 as u32));
        let flags = nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW;
        nix::unistd::fchownat(at(dir), name, Some(uid), Some(gid), flags).map_err(io("fchownat"))?;
        if header.entry_type() != EntryType::Symlink {
            // chown clears setuid and setgid: the mode goes on after it.
            let chmod = nix::sys::stat::FchmodatFlags::NoFollowSymlink;
            match nix::sys::stat::fchmodat(at(dir), name, Mode::from_bits_truncate(mode), chmod) {
                Ok(()) => {}
                // Without the new fchmodat2, glibc refuses NoFollow; the entry is no symlink.
                Err(nix::errno::Errno::EOPNOTSUPP) => nix::sys::stat::fchmodat(
                    at(dir),
                    name,
                    Mode::from_bits_truncate(mode),
                    nix::sys::stat::FchmodatFlags::FollowSymlink,
                )
                .map_err(io("fchmodat"))?,
                Err(e) => return Err(io("fchmodat")(e)),
            }
        }
    }
    Ok(true)
}

fn directory(dir: BorrowedFd<'_>, name: &OsStr, mode: u32) -> Result<(), UnpackErrorKind> {
    match fs::kind_at(dir, name)? {
        Some(SFlag::S_IFDIR) => {}
        Some(_) => {
            // A directory replacing a file or link of this layer: the later entry wins.
            nix::unistd::unlinkat(at(dir), name, nix::unistd::UnlinkatFlags::NoRemoveDir).map_err(io("unlinkat"))?;
            nix::sys::stat::mkdirat(at(dir), name, Mode::from_bits_truncate(mode)).map_err(io("mkdirat"))?;
        }
        None => nix::sys::stat::mkdirat(at(dir), name, Mode::from_bits_truncate(mode)).map_err(io("mkdirat"))?,
    }
    let opened = fs::open_dir(dir, name, true).map_err(io("opening a directory"))?;
    nix::sys::stat::fchmod(std::os::fd::AsRawFd::as_raw_fd(&opened), Mode::from_bits_truncate(mode))
        .map_err(io("fchmod"))
}

fn file<R: Read>(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    mode: u32,
    item: &mut tar::Entry<'_, R>,
) -> Result<u64, UnpackErrorKind> {
    fs::clear_for_file(dir, name)?;
    let mut out = fs::create_file(dir, name, mode & 0o777)?;
    let copied = std::io::copy(item, &mut out).map_err(UnpackErrorKind::Archive)?;
    nix::sys::stat::fchmod(std::os::fd::AsRawFd::as_raw_fd(&out), Mode::from_bits_truncate(mode))
        .map_err(io("fchmod"))?;
    Ok(copied)
}

fn hard_link(dir: BorrowedFd<'_>, name: &OsStr, target: &[u8], root: BorrowedFd<'_>) -> Result<(), UnpackErrorKind> {
    let wrong = || UnpackErrorKind::HardlinkTarget { target: PathBuf::from(OsStr::from_bytes(target)) };
    let to = name::parse(target).map_err(|_| wrong())?;
    let to_dir = fs::dir_of(root, &to.parent, false).map_err(|_| wrong())?;
    if fs::kind_at(to_dir.as_fd(), &to.last)? != Some(SFlag::S_IFREG) {
        return Err(wrong());
    }
    fs::clear_for_file(dir, name)?;
    let flags = nix::fcntl::AtFlags::empty(); // the target is a regular file: nothing to follow
    nix::unistd::linkat(at(to_dir.as_fd()), to.last.as_os_str(), at(dir), name, flags).map_err(io("linkat"))
}

fn device(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    mode: u32,
    kind: EntryType,
    header: &tar::Header,
) -> Result<(), UnpackErrorKind> {
    let major = header.device_major().map_err(UnpackErrorKind::Archive)?.unwrap_or(0);
    let minor = header.device_minor().map_err(UnpackErrorKind::Archive)?.unwrap_or(0);
    fs::clear_for_file(dir, name)?;
    let sflag = if kind == EntryType::Char { SFlag::S_IFCHR } else { SFlag::S_IFBLK };
    let dev = nix::sys::stat::makedev(u64::from(major), u64::from(minor));
    nix::sys::stat::mknodat(at(dir), name, sflag, Mode::from_bits_truncate(mode), dev).map_err(io("mknodat (a device)"))
}
