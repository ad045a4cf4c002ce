//! The layer being unpacked (**parent**): each entry in turn (created by `create`), then
//! the whiteouts, opaque marks and directory modes once every entry is in.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use nix::sys::stat::{FchmodatFlags, Mode, SFlag};
use tar::EntryType;

use super::create::{create, Created};
use super::fs::{self, at};
use super::header::Item;
use super::name::{self, Name};
use super::{UnpackOptions, UnpackReport};
use crate::image::error::{capped, io, UnpackErrorKind};

const WHITEOUT: &[u8] = b".wh.";
const OPAQUE: &[u8] = b".wh..wh..opq";

/// A layer being unpacked: its root, the last parent directory used (entries come grouped
/// by directory), and what is done once every entry is in: whiteouts (a whiteout hides the
/// layers below, never an entry of its own layer), opaque marks, directory modes.
pub(crate) struct Layer<'a> {
    root: BorrowedFd<'a>,
    options: UnpackOptions,
    parent: Option<(Vec<OsString>, OwnedFd)>,
    /// Whiteouts, with the entry's own name for errors.
    whiteouts: Vec<(Name, PathBuf)>,
    opaque: Vec<(Vec<OsString>, PathBuf)>,
    /// Directories' modes, applied last (deepest first): made 0700 or more until then, so
    /// that a read-only directory can still be filled without root.
    dir_modes: Vec<(Vec<OsString>, u32)>,
}

type Failed = (PathBuf, UnpackErrorKind);

impl<'a> Layer<'a> {
    pub fn new(root: BorrowedFd<'a>, options: UnpackOptions) -> Self {
        Layer { root, options, parent: None, whiteouts: Vec::new(), opaque: Vec::new(), dir_modes: Vec::new() }
    }

    /// Creates `item` (or records it, for a whiteout).
    pub fn add(&mut self, item: &mut Item<'_>, report: &mut UnpackReport) -> Result<(), UnpackErrorKind> {
        let kind = item.meta.header.entry_type();
        let raw = capped(OsStr::from_bytes(&item.meta.path));
        let name = match name::parse(&item.meta.path) {
            // `./`, the layer's root itself, which `tar -C dir -c .` writes first: it exists.
            Err(UnpackErrorKind::Empty) if kind == EntryType::Directory => return Ok(()),
            other => other?,
        };
        let last = name.last.as_bytes();
        if last == OPAQUE {
            self.opaque.push((name.parent, raw));
            return Ok(());
        }
        if let Some(hidden) = last.strip_prefix(WHITEOUT) {
            // `.wh..` or `.wh...` would hide `.` or `..`: refused like such a name.
            let hidden = name::parse(hidden)?.last;
            self.whiteouts.push((Name { parent: name.parent, last: hidden }, raw));
            return Ok(());
        }
        let dir = self.parent_of(&name.parent)?;
        match create(dir.as_fd(), &name.last, item, self.root, &self.options, report)? {
            Created::Skipped => return Ok(()),
            Created::Directory(mode) => {
                let mut parts = name.parent;
                parts.push(name.last);
                self.dir_modes.push((parts, mode));
            }
            Created::Other => {}
        }
        report.entries += 1;
        Ok(())
    }

    /// How missing parents are made: owned by the shifted root with `id_shift`.
    fn make(&self) -> fs::Missing {
        let shifted = self.options.id_shift.filter(|_| self.options.owners);
        fs::Missing::Make(shifted.map(|s| (s.uid, s.gid)))
    }

    /// The (cached) directory of `parts`.
    fn parent_of(&mut self, parts: &[OsString]) -> Result<OwnedFd, UnpackErrorKind> {
        let copy =
            |fd: &OwnedFd| fd.try_clone().map_err(|source| UnpackErrorKind::Io { op: "copying a descriptor", source });
        if let Some((cached, fd)) = &self.parent {
            if cached.as_slice() == parts {
                return copy(fd);
            }
        }
        let fd = fs::dir_of(self.root, parts, self.make())?;
        self.parent = Some((parts.to_vec(), copy(&fd)?));
        Ok(fd)
    }

    /// Makes the recorded whiteouts (where this layer made no entry of that name) and
    /// opaque marks, then gives directories their modes. On failure, the entry it was for.
    pub fn finish(&mut self, report: &mut UnpackReport) -> Result<(), Failed> {
        for (w, raw) in std::mem::take(&mut self.whiteouts) {
            let failed = |kind| (raw.clone(), kind);
            let dir = fs::dir_of(self.root, &w.parent, self.make()).map_err(failed)?;
            if fs::kind_at(dir.as_fd(), &w.last).map_err(failed)?.is_some() {
                continue; // an entry of this layer: the whiteout was for the layers below it
            }
            let made = nix::sys::stat::mknodat(at(dir.as_fd()), w.last.as_os_str(), SFlag::S_IFCHR, Mode::empty(), 0);
            made.map_err(io("mknodat (a whiteout)")).map_err(failed)?;
            report.whiteouts += 1;
            report.entries += 1;
        }
        let xattr: &std::ffi::CStr =
            if self.options.trusted_xattrs { c"trusted.overlay.opaque" } else { c"user.overlay.opaque" };
        for (parts, raw) in std::mem::take(&mut self.opaque) {
            let failed = |kind| (raw.clone(), kind);
            let dir = fs::dir_of(self.root, &parts, self.make()).map_err(failed)?;
            let own =
                fs::open_dir(dir.as_fd(), OsStr::new("."), true).map_err(io("opening a directory")).map_err(failed)?;
            crate::sys::xattr::set(own.as_fd(), xattr, b"y")
                .map_err(|source| failed(UnpackErrorKind::Io { op: "setting the opaque xattr", source }))?;
            report.whiteouts += 1;
            report.entries += 1;
        }
        self.apply_dir_modes()
    }

    /// The directories' own modes, deepest first (a parent made read-only last).
    fn apply_dir_modes(&mut self) -> Result<(), Failed> {
        let mut modes = std::mem::take(&mut self.dir_modes);
        modes.sort_by_key(|(parts, _)| std::cmp::Reverse(parts.len()));
        for (parts, mode) in modes {
            let failed = |kind| (parts.iter().collect::<PathBuf>(), kind);
            let Some((last, parent)) = parts.split_last() else { continue };
            let dir = fs::dir_of(self.root, parent, fs::Missing::Fail).map_err(failed)?;
            // Still the directory this layer made (a later entry may have replaced it); it is
            // no symlink, so chmod follows nothing.
            if fs::kind_at(dir.as_fd(), last).map_err(failed)? != Some(SFlag::S_IFDIR) {
                continue;
            }
            nix::sys::stat::fchmodat(
                at(dir.as_fd()),
                last.as_os_str(),
                Mode::from_bits_truncate(mode),
                FchmodatFlags::FollowSymlink,
            )
            .map_err(io("fchmodat (a directory)"))
            .map_err(failed)?;
        }
        Ok(())
    }
}
