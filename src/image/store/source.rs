//! Where an import reads from (**parent**): an OCI layout directory, or a tarball (oci-archive,
//! docker-archive) read as an index of its entries, never extracted: each file is read in
//! place (`pread`), and a link (docker-archive's `<id>/layer.tar` symlinks) is followed only
//! to another entry of the archive.

use std::cell::Cell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::SFlag;

use crate::image::error::UnpackErrorKind;
use crate::image::store::error::{io_at, StoreError};
use crate::image::store::json::MAX_JSON;
use crate::image::unpack::header::{Pending, Resolved};

/// A tree of named files, read one at a time.
pub(crate) trait Source {
    /// Opens `name` ('/'-separated, relative); a missing one is `StoreError::Missing`.
    fn open(&self, name: &str) -> Result<Box<dyn Read + '_>, StoreError>;
    /// The directory or archive, for errors.
    fn place(&self) -> &Path;

    /// The whole of the JSON document `name` (at most `MAX_JSON` bytes).
    fn read_small(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let mut bytes = Vec::new();
        let read = self.open(name)?.take(MAX_JSON + 1).read_to_end(&mut bytes);
        read.map_err(io_at("reading", self.place().join(name)))?;
        if bytes.len() as u64 > MAX_JSON {
            return Err(StoreError::TooLarge { entry: name.to_owned(), limit: MAX_JSON });
        }
        Ok(bytes)
    }
}

/// `name` without `.` components, its `..` resolved; `None` if it leaves the top.
fn normalize(name: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// An OCI layout directory.
pub(crate) struct DirSource {
    pub(crate) root: PathBuf,
}

impl Source for DirSource {
    /// Opens `name` beneath the layout (no symlink, no `..` out of it) and only if it is a
    /// regular file: a FIFO would hang the import (with the store locked), a device or a
    /// symlink to a file outside the layout would be read as a blob.
    fn open(&self, name: &str) -> Result<Box<dyn Read + '_>, StoreError> {
        let missing = || StoreError::Missing { entry: name.to_owned(), place: self.root.clone() };
        let clean = normalize(name).filter(|n| !n.is_empty() && !name.starts_with('/')).ok_or_else(missing)?;
        let not_a_file = || StoreError::NotAFile { entry: name.to_owned(), place: self.root.clone() };
        let root = File::open(&self.root).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => missing(),
            _ => io_at("opening", &self.root)(e),
        })?;
        let fd = open_beneath(&root, &clean);
        let file = match fd {
            Ok(file) => file,
            Err(Errno::ENOENT) => return Err(missing()),
            Err(Errno::ELOOP | Errno::EXDEV | Errno::ENOTDIR) => return Err(not_a_file()),
            Err(e) => return Err(io_at("opening", self.root.join(&clean))(e.into())),
        };
        let stat =
            nix::sys::stat::fstat(file.as_raw_fd()).map_err(|e| io_at("reading", self.root.join(&clean))(e.into()))?;
        if SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits()) != SFlag::S_IFREG {
            return Err(not_a_file());
        }
        Ok(Box::new(io::BufReader::with_capacity(1 << 20, file)))
    }

    fn place(&self) -> &Path {
        &self.root
    }
}

/// Opens the file `name` beneath `root`, through no symlink and not following its own name;
/// `O_NONBLOCK`, so that a FIFO does not wait for a writer (it is then refused).
fn open_beneath(root: &File, name: &str) -> nix::Result<File> {
    let how = OpenHow::new()
        .flags(OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_NOCTTY)
        .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    loop {
        match crate::sys::fd::openat2(root.as_fd(), std::ffi::OsStr::new(name), how) {
            Err(Errno::EAGAIN | Errno::EINTR) => continue, // a rename elsewhere raced the lookup
            other => return other.map(File::from),
        }
    }
}

/// What a name of an archive is.
enum Node {
    /// Its data: where it starts in the archive, and its length.
    File { start: u64, len: u64 },
    /// A symlink or hard link, its target resolved to an archive name.
    Link(String),
}

/// A tarball, as an index of its regular files and links.
pub(crate) struct ArchiveSource {
    file: File,
    path: PathBuf,
    nodes: HashMap<String, Node>,
}

impl ArchiveSource {
    /// Reads the headers of the tarball `path` (skipping over the data). Long names and
    /// PAX headers are read by isobox (`unpack::header`), at most 64 KiB each.
    pub(crate) fn open(path: &Path) -> Result<ArchiveSource, StoreError> {
        let file = File::open(path).map_err(io_at("opening", path))?;
        let mut nodes = HashMap::new();
        let shift = Rc::new(Cell::new(0));
        let mut archive = tar::Archive::new(Shifted { file: &file, pos: 0, shift: Rc::clone(&shift) });
        let bad = |kind| header_error(path, kind);
        let mut pending = Pending::default();
        for entry in archive.entries_with_seek().map_err(io_at("reading the archive", path))?.raw(true) {
            let mut entry = entry.map_err(io_at("reading the archive", path))?;
            if pending.absorb(&mut entry).map_err(bad)? {
                continue;
            }
            let meta = pending.resolve(entry.header()).map_err(bad)?;
            let start = entry.raw_file_position().saturating_add(shift.get());
            skip_beside(&shift, meta.size, entry.size()).map_err(io_at("reading the archive", path))?;
            let Some(name) = std::str::from_utf8(&meta.path).ok().and_then(normalize) else { continue };
            if let Some(node) = node(&meta, &name, start) {
                nodes.insert(name, node);
            }
        }
        drop(archive);
        Ok(ArchiveSource { file, path: path.to_owned(), nodes })
    }

    fn resolve(&self, name: &str) -> Result<(u64, u64), StoreError> {
        let mut current = normalize(name).unwrap_or_default();
        for hop in 0..16 {
            match self.nodes.get(&current) {
                Some(Node::File { start, len }) => return Ok((*start, *len)),
                Some(Node::Link(target)) => {
                    let next = normalize(target).filter(|t| !t.is_empty());
                    let err = || StoreError::ArchiveLink { entry: current.clone(), target: target.clone() };
                    current = next.ok_or_else(err)?;
                }
                None if hop == 0 => {
                    return Err(StoreError::Missing { entry: name.to_owned(), place: self.path.clone() })
                }
                None => return Err(StoreError::ArchiveLink { entry: name.to_owned(), target: current }),
            }
        }
        Err(StoreError::ArchiveLink { entry: name.to_owned(), target: current })
    }
}

/// A metadata entry's error as the store's.
fn header_error(path: &Path, kind: UnpackErrorKind) -> StoreError {
    match kind {
        UnpackErrorKind::HeaderTooLarge { size, limit } => {
            StoreError::ArchiveHeaderTooLarge { place: path.to_owned(), size, limit }
        }
        UnpackErrorKind::Archive(e) => io_at("reading the archive", path)(e),
        other => io_at("reading the archive", path)(io::Error::new(io::ErrorKind::InvalidData, other.to_string())),
    }
}

/// For an entry whose PAX size (`size`) is past what its header can say (Go writes 0 there,
/// `in_header`): the headers go on past its data, which the `tar` iterator does not know of.
fn skip_beside(shift: &Cell<u64>, size: u64, in_header: u64) -> io::Result<()> {
    if size == in_header {
        return Ok(());
    }
    if in_header != 0 {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "a PAX size that is not the header's"));
    }
    let past = || io::Error::new(io::ErrorKind::InvalidData, "a size past 64 bits");
    shift.set(size.checked_next_multiple_of(512).and_then(|n| n.checked_add(shift.get())).ok_or_else(past)?);
    Ok(())
}

/// What the entry `meta`, named `name`, whose data starts at `start`, is (`None`: nothing
/// an import reads).
fn node(meta: &Resolved, name: &str, start: u64) -> Option<Node> {
    let link = || meta.link.as_ref().map(|l| String::from_utf8_lossy(l).into_owned());
    Some(match meta.header.entry_type() {
        tar::EntryType::Regular | tar::EntryType::Continuous => Node::File { start, len: meta.size },
        // A symlink's target is relative to its directory, a hard link's to the top.
        tar::EntryType::Symlink => match link() {
            Some(target) if !target.starts_with('/') => Node::Link(dir_of(name) + &target),
            _ => Node::Link(String::new()),
        },
        tar::EntryType::Link => Node::Link(link().unwrap_or_default()),
        _ => return None,
    })
}

/// The archive file as the `tar` iterator sees it: without the data of entries whose PAX
/// size it does not know (`shift` bytes so far), read with `pread`.
struct Shifted<'f> {
    file: &'f File,
    pos: u64,
    shift: Rc<Cell<u64>>,
}

impl Read for Shifted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let at = self.pos.checked_add(self.shift.get()).ok_or(io::ErrorKind::InvalidInput)?;
        let n = self.file.read_at(buf, at)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Shifted<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let bad = || io::Error::new(io::ErrorKind::InvalidInput, "a seek out of the archive");
        self.pos = match to {
            SeekFrom::Start(n) => n,
            SeekFrom::Current(d) => self.pos.checked_add_signed(d).ok_or_else(bad)?,
            SeekFrom::End(_) => return Err(bad()),
        };
        Ok(self.pos)
    }
}

/// `name`'s directory with a trailing '/', or "" at the top.
fn dir_of(name: &str) -> String {
    name.rfind('/').map_or(String::new(), |i| name[..=i].to_owned())
}

impl Source for ArchiveSource {
    fn open(&self, name: &str) -> Result<Box<dyn Read + '_>, StoreError> {
        let (start, len) = self.resolve(name)?;
        let slice = Slice { file: &self.file, pos: start, end: start.saturating_add(len) };
        Ok(Box::new(io::BufReader::with_capacity(1 << 20, slice)))
    }

    fn place(&self) -> &Path {
        &self.path
    }
}

/// Bytes `pos..end` of a file, read with `pread` (so several can be open at once).
struct Slice<'f> {
    file: &'f File,
    pos: u64,
    end: u64,
}

impl Read for Slice<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf.len().min((self.end - self.pos) as usize);
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 && want > 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the archive ends inside an entry"));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn names() {
        assert_eq!(normalize("./blobs//sha256/x").as_deref(), Some("blobs/sha256/x"));
        assert_eq!(normalize("abc/../def.tar").as_deref(), Some("def.tar"));
        assert_eq!(normalize("../x"), None);
    }
}
