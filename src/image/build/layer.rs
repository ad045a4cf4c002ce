//! The layer writer (**parent**): an upper directory (overlayfs's format) as an OCI layer
//! tar, over the `tar` crate's `Builder` and GNU headers. Entries come in the walk's order
//! (sorted, a directory before its content), so the same tree gives the same bytes:
//!
//! - directories, regular files, symlinks, FIFOs and devices with their mode (setuid, setgid
//!   and sticky bits included), owner (through the [`OwnerMap`]) and mtime in whole seconds;
//!   no user or group names, no xattrs, no access or change times;
//! - a regular file met again (same device and inode) is a hard link to its first path;
//! - a whiteout (0:0 character device) `d/x` is an empty file `d/.wh.x`, an opaque directory
//!   `d` is followed by an empty file `d/.wh..wh..opq`, both with the mark's mode, owner, mtime;
//! - sockets are left out (counted); the directory itself has no entry.
//!
//! With limits, each entry's bytes in the tar (its header, a long name's or link's extra
//! header and name, its content padded, and the end-of-archive blocks) are added to what was
//! written before the entry is, and so before a file is read, and the entries are counted.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use tar::{EntryType, Header};

use super::error::{BuildError, ENTRIES, LAYER_BYTES};
use super::spec::{LayerOptions, OwnerMap};
use super::walk::{mode_bits, Entry, Kind, Marks, Walk};
use crate::image::store::limits::StoreLimits;

/// A tar block.
const BLOCK: u64 = 512;

/// What a layer holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LayerReport {
    /// Entries written (whiteouts, opaque marks and hard links included).
    pub entries: u64,
    /// Bytes of file contents.
    pub bytes: u64,
    /// Deletions (whiteouts) written.
    pub whiteouts: u64,
    /// Opaque directories (their `.wh..wh..opq`).
    pub opaque_dirs: u64,
    /// Hard links (files met again).
    pub hard_links: u64,
    /// Sockets left out.
    pub skipped: u64,
}

/// Writes the upper directory `upper` (or any directory in overlayfs's format) to `out` as an
/// uncompressed OCI layer tar, its owners written through `owners`. Nothing is followed:
/// symlinks are entries, never paths. The tree must not change meanwhile (commit after the
/// sandbox ended): a file that changes size is refused.
///
/// The overlay marks of both xattr namespaces are read (`trusted.overlay.*` and
/// `user.overlay.*`), and nothing is limited: right for a directory you trust. For a sandbox's
/// upper directory, use [`write_layer_with`] and say which namespace its overlay used
/// ([`LayerOptions::trusted_xattrs`]), and the limits.
pub fn write_layer(upper: &Path, out: impl Write, owners: &OwnerMap) -> Result<LayerReport, BuildError> {
    write_layer_with(upper, out, &LayerOptions::new().owners(owners.clone()))
}

/// As [`write_layer`], with `options`: the owners, the namespace of the overlay marks read,
/// and the limits the layer is held to (past one, [`BuildError::Limit`], before the file or
/// directory concerned is read; what was written to `out` by then stays there).
pub fn write_layer_with(upper: &Path, out: impl Write, options: &LayerOptions) -> Result<LayerReport, BuildError> {
    let limits = options.limits;
    let mut walk = Walk::new(upper, Marks(options.trusted_xattrs), limits.max_layer_entries)?;
    let mut writer = LayerWriter {
        tar: tar::Builder::new(Counting { inner: out, written: 0 }),
        owners: &options.owners,
        links: HashMap::new(),
        report: LayerReport::default(),
        limits,
        appended: 0,
    };
    while let Some(entry) = walk.next_entry()? {
        writer.add(entry)?;
    }
    writer.tar.into_inner().map_err(written)?.inner.flush().map_err(written)?;
    Ok(writer.report)
}

/// The layer's output, counting what went through.
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct LayerWriter<'o, W: Write> {
    tar: tar::Builder<Counting<W>>,
    owners: &'o OwnerMap,
    /// The first path of each (device, inode) with more than one link.
    links: HashMap<(u64, u64), Vec<u8>>,
    report: LayerReport,
    limits: StoreLimits,
    /// Tar entries appended (long-name entries aside), as an unpacker counts them.
    appended: u64,
}

fn written(source: io::Error) -> BuildError {
    BuildError::Write { source }
}

fn path_of(bytes: &[u8]) -> &Path {
    Path::new(std::ffi::OsStr::from_bytes(bytes))
}

/// `n` rounded up to whole blocks (saturating).
fn blocks(n: u64) -> u64 {
    n.div_ceil(BLOCK).saturating_mul(BLOCK)
}

/// The bytes a name of `len` bytes adds past its header: none if it fits the header's 100
/// bytes, else a GNU long-name entry (a header, the name and its NUL, padded), as `tar` writes.
fn long_name(len: usize) -> u64 {
    match len < 100 {
        true => 0,
        false => BLOCK.saturating_add(blocks(len as u64 + 1)),
    }
}

/// `path` with its last component prefixed by `.wh.`.
fn whiteout_name(path: &[u8]) -> Vec<u8> {
    let cut = path.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
    [&path[..cut], b".wh.", &path[cut..]].concat()
}

impl<W: Write> LayerWriter<'_, W> {
    /// Counts one more entry at `path` (its link target `link`, `size` bytes of content),
    /// refusing it if the layer would then be past a limit (the end-of-archive blocks included).
    fn reserve(&mut self, path: &[u8], link: &[u8], size: u64) -> Result<(), BuildError> {
        let over = |what, limit| BuildError::Limit { path: path_of(path).to_owned(), what, limit };
        if let Some(max) = self.limits.max_layer_entries.filter(|&m| self.appended >= m) {
            return Err(over(ENTRIES, max));
        }
        if let Some(max) = self.limits.max_layer_bytes {
            let parts = [BLOCK, long_name(path.len()), long_name(link.len()), blocks(size), 2 * BLOCK];
            let after = parts.iter().fold(self.tar.get_ref().written, |sum, &n| sum.saturating_add(n));
            if after > max {
                return Err(over(LAYER_BYTES, max));
            }
        }
        self.appended += 1;
        Ok(())
    }

    /// Appends `path` with `data` (of `h`'s size, reserved first).
    fn data(&mut self, h: &mut Header, path: &[u8], data: impl Read) -> Result<(), BuildError> {
        self.reserve(path, b"", h.size().unwrap_or(0))?;
        self.tar.append_data(h, path_of(path), data).map_err(written)
    }

    /// Appends `path`, a link (hard or symbolic) to `target`.
    fn link(&mut self, h: &mut Header, path: &[u8], target: &[u8]) -> Result<(), BuildError> {
        self.reserve(path, target, 0)?;
        self.tar.append_link(h, path_of(path), path_of(target)).map_err(written)
    }

    fn header(&self, entry: &Entry, kind: EntryType, size: u64) -> Header {
        let mut h = Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(mode_bits(&entry.stat));
        let (uid, gid) = self.owners.map((entry.stat.st_uid, entry.stat.st_gid));
        h.set_uid(uid.into());
        h.set_gid(gid.into());
        h.set_mtime(u64::try_from(entry.stat.st_mtime).unwrap_or(0));
        h
    }

    fn add(&mut self, mut entry: Entry) -> Result<(), BuildError> {
        self.report.entries += 1;
        let kind = std::mem::replace(&mut entry.kind, Kind::Socket);
        match kind {
            Kind::Dir { opaque } => {
                let mut h = self.header(&entry, EntryType::Directory, 0);
                self.data(&mut h, &entry.path, io::empty())?;
                if opaque {
                    let mut h = self.header(&entry, EntryType::Regular, 0);
                    h.set_mode(mode_bits(&entry.stat) & 0o777);
                    let marker = [&entry.path[..], b"/.wh..wh..opq"].concat();
                    self.data(&mut h, &marker, io::empty())?;
                    self.report.entries += 1;
                    self.report.opaque_dirs += 1;
                }
            }
            Kind::File(file) => self.file(&entry, file)?,
            Kind::Symlink(target) => {
                let mut h = self.header(&entry, EntryType::Symlink, 0);
                self.link(&mut h, &entry.path, &target)?;
            }
            Kind::Whiteout => {
                let mut h = self.header(&entry, EntryType::Regular, 0);
                h.set_mode(mode_bits(&entry.stat) & 0o777);
                self.data(&mut h, &whiteout_name(&entry.path), io::empty())?;
                self.report.whiteouts += 1;
            }
            Kind::Device { block } => {
                let mut h = self.header(&entry, if block { EntryType::Block } else { EntryType::Char }, 0);
                let rdev = entry.stat.st_rdev;
                let (major, minor) = (nix::sys::stat::major(rdev), nix::sys::stat::minor(rdev));
                let device =
                    |n: u64| u32::try_from(n).map_err(|_| written(io::Error::other("a device number past 32 bits")));
                h.set_device_major(device(major)?).map_err(written)?;
                h.set_device_minor(device(minor)?).map_err(written)?;
                self.data(&mut h, &entry.path, io::empty())?;
            }
            Kind::Fifo => {
                let mut h = self.header(&entry, EntryType::Fifo, 0);
                self.data(&mut h, &entry.path, io::empty())?;
            }
            Kind::Socket => {
                self.report.entries -= 1;
                self.report.skipped += 1;
            }
        }
        Ok(())
    }

    /// A regular file: a hard link to its first path if met before, else its content.
    fn file(&mut self, entry: &Entry, file: std::fs::File) -> Result<(), BuildError> {
        if entry.stat.st_nlink > 1 {
            let key = (entry.stat.st_dev, entry.stat.st_ino);
            if let Some(first) = self.links.get(&key).cloned() {
                let mut h = self.header(entry, EntryType::Link, 0);
                self.link(&mut h, &entry.path, &first)?;
                self.report.hard_links += 1;
                return Ok(());
            }
            self.links.insert(key, entry.path.clone());
        }
        let size = u64::try_from(entry.stat.st_size).unwrap_or(0);
        let mut h = self.header(entry, EntryType::Regular, size);
        self.reserve(&entry.path, b"", size)?;
        let mut content = Exact { file, left: size, changed: false };
        match self.tar.append_data(&mut h, path_of(&entry.path), &mut content) {
            Ok(()) => {}
            Err(_) if content.changed => return Err(BuildError::Changed { path: entry.path_buf() }),
            Err(e) => return Err(written(e)),
        }
        self.report.bytes += size;
        Ok(())
    }
}

/// A file read for exactly `left` more bytes: shorter, or longer, and it changed.
struct Exact {
    file: std::fs::File,
    left: u64,
    changed: bool,
}

impl Read for Exact {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // One byte more would mean it grew.
            let mut probe = [0u8; 1];
            if self.file.read(&mut probe)? != 0 {
                self.changed = true;
                return Err(io::Error::other("the file grew"));
            }
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.file.read(&mut buf[..want])?;
        if n == 0 {
            self.changed = true;
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file shrank"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::whiteout_name;

    #[test]
    fn whiteouts_prefix_the_last_component() {
        assert_eq!(whiteout_name(b"gone"), b".wh.gone");
        assert_eq!(whiteout_name(b"etc/ssh/key"), b"etc/ssh/.wh.key");
    }
}
