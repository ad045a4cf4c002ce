//! What unpacking a layer refuses or fails at, naming the entry (**parent**).

use std::io;
use std::path::PathBuf;

/// A layer archive that could not be unpacked: which entry, and why. Nothing is ever written
/// outside the layer's directory, whatever the archive holds.
#[derive(Debug, thiserror::Error)]
#[error("unpacking layer entry {entry:?}: {kind}")]
pub struct UnpackError {
    /// The entry's name as the archive gives it (empty when the archive itself is unreadable
    /// before any entry), cut to its first 4096 bytes and `...` if longer.
    pub entry: PathBuf,
    /// What was wrong with it.
    pub kind: UnpackErrorKind,
}

/// Why an entry was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnpackErrorKind {
    /// The name is absolute (`/etc/passwd`): a layer's names are relative to its root.
    #[error("an absolute name")]
    Absolute,
    /// The name has a `..` component.
    #[error("a `..` component in the name")]
    ParentDir,
    /// The name is empty (or only `.`).
    #[error("an empty name")]
    Empty,
    /// The entry's path goes through a symlink (one the archive made): a layer's entries
    /// never do, so this is an attempt to write through it.
    #[error("its path goes through a symlink")]
    ThroughSymlink,
    /// A file, link or device would replace a directory.
    #[error("it would replace a directory")]
    ReplacesDirectory,
    /// A hard link whose target is not an earlier regular file of this layer.
    #[error("a hard link to {target:?}, which is not a file earlier in this layer")]
    HardlinkTarget {
        /// The link's target as the archive names it.
        target: PathBuf,
    },
    /// A symlink or hard link without a target.
    #[error("a link without a target")]
    NoLinkTarget,
    /// An entry type isobox does not unpack (e.g. a GNU sparse file).
    #[error("entry type {0:?} is not supported")]
    Unsupported(u8),
    /// A GNU long-name or long-link entry, or a PAX header, larger than isobox reads (refused
    /// before it is read).
    #[error("a long-name, long-link or PAX header entry of {size} bytes, more than the {limit} isobox reads")]
    HeaderTooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The layer has more entries than its limit allows.
    #[error("more than {limit} entries in the layer")]
    TooManyEntries {
        /// The limit.
        limit: u64,
    },
    /// The archive is malformed or ends early (a truncated stream).
    #[error("the archive is malformed or truncated: {0}")]
    Archive(#[source] io::Error),
    /// A system call failed.
    #[error("{op}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The error.
        source: io::Error,
    },
}

/// The most of a name an error holds (a name can have up to 64 KiB): the rest is cut, and
/// `...` marks the cut.
pub(crate) const MAX_NAME_IN_ERROR: usize = 4096;

/// `name`, cut to [`MAX_NAME_IN_ERROR`] bytes.
pub(crate) fn capped(name: impl Into<PathBuf>) -> PathBuf {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let name = name.into();
    if name.as_os_str().len() <= MAX_NAME_IN_ERROR {
        return name;
    }
    let mut bytes = name.into_os_string().into_vec();
    bytes.truncate(MAX_NAME_IN_ERROR);
    bytes.extend_from_slice(b"...");
    PathBuf::from(std::ffi::OsStr::from_bytes(&bytes))
}

impl UnpackError {
    pub(crate) fn new(entry: impl Into<PathBuf>, kind: UnpackErrorKind) -> Self {
        UnpackError { entry: capped(entry), kind }
    }
}

/// `op` failed with `errno`.
pub(crate) fn io(op: &'static str) -> impl FnOnce(nix::errno::Errno) -> UnpackErrorKind {
    move |errno| UnpackErrorKind::Io { op, source: errno.into() }
}
