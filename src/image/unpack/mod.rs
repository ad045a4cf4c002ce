//! Unpacking one layer (**parent**) into a directory, in overlayfs's format, without trusting
//! the archive: isobox's own code over the `tar` crate's entry iterator (its `unpack`
//! functions have had path-traversal holes, tar-rs#129, RUSTSEC-2021-0080, RUSTSEC-2026-0067).
//!
//! - [`header`]: the archive's raw headers, and the long names, long links and PAX records
//!   before an entry read by isobox, each bounded (64 KiB);
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
pub(crate) mod header;
pub(crate) mod name;

use std::cell::RefCell;
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::image::error::{UnpackError, UnpackErrorKind};
use crate::image::unpack::header::{Item, Pending};

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
/// stays inside `dir`, for the caller to remove. A long-name, long-link or PAX header entry
/// of more than 64 KiB is refused before it is read.
pub fn unpack_layer(archive: impl Read, dir: &Path, options: &UnpackOptions) -> Result<UnpackReport, UnpackError> {
    unpack_limited(archive, dir, options, None)
}

/// As [`unpack_layer`], refusing a layer of more than `max_entries` entries (metadata
/// entries aside).
pub(crate) fn unpack_limited(
    archive: impl Read,
    dir: &Path,
    options: &UnpackOptions,
    max_entries: Option<u64>,
) -> Result<UnpackReport, UnpackError> {
    let root = open_root(dir)?;
    let shared = Rc::new(RefCell::new(Counted { inner: archive, read: 0 }));
    let mut tar = tar::Archive::new(Shared(Rc::clone(&shared)));
    // Raw headers only: the metadata entries are isobox's to read (`header`), bounded.
    let entries = tar.entries().map_err(unreadable)?.raw(true);
    let layer = entry::Layer::new(root.as_fd(), *options);
    let mut walk = Walk { layer, pending: Pending::default(), beside: 0, end: 0, entries: 0, max_entries };
    let mut report = UnpackReport::default();
    for item in entries {
        let mut item = item.map_err(unreadable)?;
        walk.entry(&mut item, &shared, &mut report)?;
    }
    // The iterator also ends at EOF on a block boundary: an archive must end with its
    // end-of-archive block, past the last entry (and no metadata entry may wait for one).
    if shared.borrow().read < walk.end + 512 || !walk.pending.is_empty() {
        return Err(unreadable(io::Error::new(io::ErrorKind::UnexpectedEof, "no end-of-archive block")));
    }
    walk.layer.finish(&mut report).map_err(|(name, kind)| UnpackError::new(name, kind))?;
    Ok(report)
}

/// An unreadable header, or a cut stream, names no entry: the error's entry is empty.
fn unreadable(e: io::Error) -> UnpackError {
    UnpackError::new("", UnpackErrorKind::Archive(e))
}

/// Where the walk over a layer's entries is.
struct Walk<'a> {
    layer: entry::Layer<'a>,
    pending: Pending,
    /// Bytes read beside the `tar` iterator (the data of entries whose PAX size it does not know).
    beside: u64,
    /// Where the last entry's data ends in the stream (rounded to blocks).
    end: u64,
    entries: u64,
    max_entries: Option<u64>,
}

fn past_64_bits() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "a size or position past 64 bits")
}

/// `n` rounded up to whole blocks, or an error past `u64`.
fn blocks(n: u64) -> io::Result<u64> {
    n.checked_next_multiple_of(512).ok_or_else(past_64_bits)
}

impl Walk<'_> {
    /// Reads a metadata entry, or creates an entry.
    fn entry<R: Read>(
        &mut self,
        item: &mut tar::Entry<'_, Shared<R>>,
        shared: &Rc<RefCell<Counted<R>>>,
        report: &mut UnpackReport,
    ) -> Result<(), UnpackError> {
        let bad = |kind| UnpackError::new("", kind);
        if self.pending.absorb(item).map_err(bad)? {
            return Ok(());
        }
        let meta = self.pending.resolve(item.header()).map_err(bad)?;
        let name = PathBuf::from(std::ffi::OsStr::from_bytes(&meta.path));
        self.entries += 1;
        if let Some(limit) = self.max_entries.filter(|&l| self.entries > l) {
            return Err(UnpackError::new(name, UnpackErrorKind::TooManyEntries { limit }));
        }
        let (size, in_header) = (meta.size, item.size());
        let blocks = blocks(size).map_err(unreadable)?;
        let end = item.raw_file_position().checked_add(self.beside).and_then(|s| s.checked_add(blocks));
        self.end = end.ok_or_else(|| unreadable(past_64_bits()))?;
        let failed = |kind| UnpackError::new(&name, kind);
        if size == in_header {
            return self.layer.add(&mut Item { meta, data: item }, report).map_err(failed);
        }
        // A PAX size past what the header can say (Go writes 0 in the header): the data is
        // read here, beside the iterator, which goes on from the stream's new position.
        let regular = matches!(meta.header.entry_type(), tar::EntryType::Regular | tar::EntryType::Continuous);
        if in_header != 0 || !regular {
            let e = io::Error::new(io::ErrorKind::InvalidData, "a PAX size that is not the header's");
            return Err(failed(UnpackErrorKind::Archive(e)));
        }
        let mut data = Shared(Rc::clone(shared)).take(size);
        self.layer.add(&mut Item { meta, data: &mut data }, report).map_err(failed)?;
        // What the entry left unread, and the padding to its last block.
        let rest = blocks - size + data.limit();
        let skipped = io::copy(&mut Shared(Rc::clone(shared)).take(rest), &mut io::sink()).map_err(unreadable)?;
        if skipped != rest {
            return Err(unreadable(io::Error::from(io::ErrorKind::UnexpectedEof)));
        }
        self.beside += blocks;
        Ok(())
    }
}

/// The archive, counting what was read of it.
struct Counted<R> {
    inner: R,
    read: u64,
}

/// The archive as the `tar` iterator and the walk both read it.
struct Shared<R>(Rc<RefCell<Counted<R>>>);

impl<R: Read> Read for Shared<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut counted = self.0.borrow_mut();
        let n = counted.inner.read(buf)?;
        counted.read += n as u64;
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
