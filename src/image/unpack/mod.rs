//! Unpacking one layer (**parent**) into a directory, in overlayfs's format, without trusting
//! the archive: isobox's own code over the `tar` crate's entry iterator (its `unpack`
//! functions have had path-traversal holes, tar-rs#129, RUSTSEC-2021-0080, RUSTSEC-2026-0067).
//!
//! - [`name`]: each entry's name is relative and has no `..`, or it is refused;
//! - [`fs`]: its parent is resolved from the layer's directory one component at a time,
//!   beneath it and through no symlink, and made as needed; the entry is created there with
//!   `*at` calls that never follow its last component;
//! - [`create`]: files, directories, symlinks, hard links (to an earlier file of the layer
//!   only), FIFOs and, on request, devices;
//! - [`entry`]: the layer's entries in turn, then its whiteouts in overlay's format
//!   (`.wh.<name>` a 0:0 character device `<name>`, `.wh..wh..opq` the directory's opaque
//!   xattr) and its directories' modes (made 0700 or more until then, so that a read-only
//!   directory can be filled without root).
//!
//! Policy: ownership is applied as root (`UnpackOptions::owners`) and left to the caller
//! otherwise; setuid and setgid bits are dropped unless owners are applied; device nodes are
//! skipped (and counted) unless `devices` is set; timestamps and other xattrs are not kept.

pub(crate) mod create;
pub(crate) mod entry;
pub(crate) mod fs;
pub(crate) mod name;

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::image::error::{UnpackError, UnpackErrorKind};

/// How to unpack a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnpackOptions {
    /// Apply each entry's owner and group, and keep setuid and setgid bits (needs root over
    /// the ids; default: when the caller is root).
    pub owners: bool,
    /// Create character and block devices (default: off; they are skipped and counted). An
    /// image's device nodes give whoever opens them the host's devices.
    pub devices: bool,
    /// Mark opaque directories with `trusted.overlay.opaque` (root's overlay) rather than
    /// `user.overlay.opaque` (an overlay mounted with `userxattr` in a user namespace);
    /// default: when the caller is root.
    pub trusted_xattrs: bool,
    /// With `owners`: shift the archive's ids onto the host ids a user namespace maps them
    /// to, so that a sandbox with that mapping sees each file owned as the archive says (and
    /// its root can change what the image's root owns). Directories the archive leaves out
    /// are made owned by the shifted root. Default: none (the archive's ids as they are).
    /// [`UnpackOptions::for_user_namespace`] picks it from a sandbox's mapping.
    pub id_shift: Option<IdShift>,
}

/// Archive ids `0..count` become host ids `uid..uid + count` (`gid..` for groups); any other
/// id becomes `uid` (`gid`), the shifted root: a file of an id the mapping cannot show is
/// the root's rather than unowned in the sandbox (where nothing could copy it up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdShift {
    /// The host uid archive uid 0 becomes.
    pub uid: u32,
    /// The host gid archive gid 0 becomes.
    pub gid: u32,
    /// How many ids are shifted (at least 1).
    pub count: u32,
}

impl IdShift {
    /// Archive ids `0..count` onto host `uid..` and `gid..`.
    #[must_use]
    pub const fn new(uid: u32, gid: u32, count: u32) -> IdShift {
        IdShift { uid, gid, count }
    }

    /// The host uid of archive uid `id`.
    #[must_use]
    pub fn uid_of(&self, id: u32) -> u32 {
        Self::shift(self.uid, self.count, id)
    }

    /// The host gid of archive gid `id`.
    #[must_use]
    pub fn gid_of(&self, id: u32) -> u32 {
        Self::shift(self.gid, self.count, id)
    }

    fn shift(base: u32, count: u32, id: u32) -> u32 {
        match base.checked_add(id) {
            Some(host) if id < count && host != u32::MAX => host,
            _ => base,
        }
    }
}

impl Default for UnpackOptions {
    fn default() -> Self {
        let root = nix::unistd::geteuid().is_root();
        UnpackOptions { owners: root, devices: false, trusted_xattrs: root, id_shift: None }
    }
}

/// What a layer held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnpackReport {
    /// Entries created (whiteouts and opaque marks included).
    pub entries: u64,
    /// Bytes of file contents written.
    pub bytes: u64,
    /// Whiteouts and opaque directories made.
    pub whiteouts: u64,
    /// Device nodes skipped (`UnpackOptions::devices` off).
    pub devices_skipped: u64,
}

/// Unpacks the layer archive `archive` (uncompressed tar) into the existing directory `dir`.
/// An entry that is refused or fails stops it, with the entry's name (empty when the
/// archive's own structure is wrong: a bad header, or a stream cut short); whatever it wrote
/// stays inside `dir`, for the caller to remove.
pub fn unpack_layer(archive: impl Read, dir: &Path, options: &UnpackOptions) -> Result<UnpackReport, UnpackError> {
    let root = open_root(dir)?;
    let read = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let mut tar = tar::Archive::new(Counted { inner: archive, read: std::rc::Rc::clone(&read) });
    // An unreadable header names no entry: the error's entry is empty.
    let unreadable = |e| UnpackError::new("", UnpackErrorKind::Archive(e));
    let entries = tar.entries().map_err(unreadable)?;
    let mut report = UnpackReport::default();
    let mut layer = entry::Layer::new(root.as_fd(), *options);
    let mut end = 0; // where the last entry's data ends (rounded to blocks)
    for item in entries {
        let mut item = item.map_err(unreadable)?;
        let name = PathBuf::from(std::ffi::OsStr::from_bytes(&item.path_bytes()));
        end = item.raw_file_position() + item.size().div_ceil(512) * 512;
        layer.add(&mut item, &mut report).map_err(|kind| UnpackError::new(name, kind))?;
    }
    // The iterator also ends at EOF on a block boundary: an archive must end with its
    // end-of-archive block, past the last entry, or it was cut.
    if read.get() < end + 512 {
        let cut = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no end-of-archive block");
        return Err(UnpackError::new("", UnpackErrorKind::Archive(cut)));
    }
    layer.finish(&mut report).map_err(|(name, kind)| UnpackError::new(name, kind))?;
    Ok(report)
}

/// The archive, counting what was read of it.
struct Counted<R> {
    inner: R,
    read: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

fn open_root(dir: &Path) -> Result<OwnedFd, UnpackError> {
    use std::os::unix::fs::OpenOptionsExt;
    let flags = libc::O_PATH | libc::O_DIRECTORY;
    let opened = std::fs::OpenOptions::new().read(true).custom_flags(flags).open(dir);
    opened
        .map(OwnedFd::from)
        .map_err(|source| UnpackError::new(dir, UnpackErrorKind::Io { op: "opening the layer's directory", source }))
}
