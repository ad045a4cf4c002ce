//! Where an import reads from (**parent**): an OCI layout directory, or a tarball (oci-archive,
//! docker-archive) read as an index of its entries, never extracted: each file is read in
//! place (`pread`), and a link (docker-archive's `<id>/layer.tar` symlinks) is followed only
//! to another entry of the archive.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::image::store::error::{io_at, StoreError};
use crate::image::store::json::MAX_JSON;

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
    fn open(&self, name: &str) -> Result<Box<dyn Read + '_>, StoreError> {
        let missing = || StoreError::Missing { entry: name.to_owned(), place: self.root.clone() };
        let clean = normalize(name).filter(|n| !n.is_empty() && !name.starts_with('/')).ok_or_else(missing)?;
        let path = self.root.join(clean);
        match File::open(&path) {
            Ok(f) => Ok(Box::new(io::BufReader::with_capacity(1 << 20, f))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(missing()),
            Err(e) => Err(io_at("opening", path)(e)),
        }
    }

    fn place(&self) -> &Path {
        &self.root
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
    /// Reads the headers of the tarball `path` (skipping over the data).
    pub(crate) fn open(path: &Path) -> Result<ArchiveSource, StoreError> {
        let file = File::open(path).map_err(io_at("opening", path))?;
        let mut nodes = HashMap::new();
        let mut archive = tar::Archive::new(&file);
        let bad = io_at("reading the archive", path);
        for entry in archive.entries_with_seek().map_err(io_at("reading the archive", path))? {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => return Err(bad(e)),
            };
            let raw = entry.path_bytes();
            let Some(name) = std::str::from_utf8(&raw).ok().and_then(normalize) else { continue };
            let header = entry.header();
            let link = || entry.link_name_bytes().map(|l| String::from_utf8_lossy(&l).into_owned());
            let node = match header.entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    Node::File { start: entry.raw_file_position(), len: entry.size() }
                }
                // A symlink's target is relative to its directory, a hard link's to the top.
                tar::EntryType::Symlink => match link() {
                    Some(target) if !target.starts_with('/') => Node::Link(dir_of(&name) + &target),
                    _ => Node::Link(String::new()),
                },
                tar::EntryType::Link => Node::Link(link().unwrap_or_default()),
                _ => continue,
            };
            nodes.insert(name, node);
        }
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

/// `name`'s directory with a trailing '/', or "" at the top.
fn dir_of(name: &str) -> String {
    name.rfind('/').map_or(String::new(), |i| name[..=i].to_owned())
}

impl Source for ArchiveSource {
    fn open(&self, name: &str) -> Result<Box<dyn Read + '_>, StoreError> {
        let (start, len) = self.resolve(name)?;
        let slice = Slice { file: &self.file, pos: start, end: start + len };
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
