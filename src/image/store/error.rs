//! What importing into, reading or collecting an image store can fail at (**parent**): each
//! error names the blob, file or archive entry concerned, as its source names it.

use std::io;
use std::path::PathBuf;

use crate::image::error::UnpackError;
use crate::image::store::digest::Digest;

/// An image store operation that failed. Nothing is left half-written in the store: an import
/// that fails before its commit publishes none of its blobs and layers; one that fails during
/// its commit (a rename or sync) or just after it (naming the image in `index.json`) leaves
/// the blobs and layers it had published, each whole and checked but named by no image, and
/// the next [`gc`](crate::ImageStore::gc) removes them (as it removes what a killed import
/// staged).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A system call on a file of the store or of the source failed (its errno in `source`).
    #[error("{op} {path:?}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A blob's content does not hash to the digest its descriptor (or its name) gives.
    #[error("{entry}: its sha256 is {actual}, not {expected}")]
    DigestMismatch {
        /// The blob or archive entry, as the source names it.
        entry: String,
        /// The digest it should have.
        expected: Digest,
        /// The digest of what was read.
        actual: Digest,
    },
    /// A blob is not as long as its descriptor says.
    #[error("{entry}: {actual} bytes or more, not {expected} as its descriptor says")]
    SizeMismatch {
        /// The blob, as the source names it.
        entry: String,
        /// The size its descriptor gives.
        expected: u64,
        /// What was read (at most one byte more than `expected`).
        actual: u64,
    },
    /// A layer's uncompressed content does not hash to its diff-id in the image config.
    #[error("layer {entry}: its diff-id (sha256 uncompressed) is {actual}, not {expected} as the image config says")]
    DiffIdMismatch {
        /// The layer's blob or archive entry.
        entry: String,
        /// The config's `rootfs.diff_ids` entry.
        expected: Digest,
        /// The digest of the uncompressed layer.
        actual: Digest,
    },
    /// A blob of the source that could not be read (a write into the store is an `Io` error
    /// naming the store's file).
    #[error("reading {entry} of {place:?}: {source}")]
    SourceRead {
        /// The blob or archive entry, as the source names it.
        entry: String,
        /// The source's directory or archive (empty for a source that is no file).
        place: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A file of an OCI layout directory that is not a regular file (a symlink, FIFO, device
    /// or directory), or whose path goes through a symlink: none is read.
    #[error("{entry} in {place:?}: not a regular file (isobox reads no symlink, FIFO or device)")]
    NotAFile {
        /// The file, as the layout names it.
        entry: String,
        /// The layout's directory.
        place: PathBuf,
    },
    /// An archive's long-name, long-link or PAX header entry larger than isobox reads.
    #[error(
        "{place:?}: a long-name, long-link or PAX header entry of {size} bytes, more than the {limit} isobox reads"
    )]
    ArchiveHeaderTooLarge {
        /// The archive.
        place: PathBuf,
        /// The entry's size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A blob or layer past one of the store's [`StoreLimits`](crate::StoreLimits).
    #[error("{entry}: more than the {limit} {what} the store's limits allow")]
    Limit {
        /// The blob or layer, as the source names it.
        entry: String,
        /// What was counted: "bytes of a blob", "bytes of an uncompressed layer", "entries
        /// in a layer".
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// A file the source or store should have is missing.
    #[error("{entry}: not found in {place:?}")]
    Missing {
        /// The file or blob.
        entry: String,
        /// Where it was looked for (the source's or the store's directory or archive).
        place: PathBuf,
    },
    /// A digest that is not `sha256:` and 64 lowercase hex digits (isobox stores sha256 only).
    #[error("{entry}: {digest:?} is not a sha256 digest")]
    BadDigest {
        /// The document that holds it.
        entry: String,
        /// The digest as written.
        digest: String,
    },
    /// A JSON document (index, manifest, config) that does not parse.
    #[error("{entry}: not valid JSON: {source}")]
    Json {
        /// The document.
        entry: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A JSON document that parses but lacks a field or has one of the wrong type.
    #[error("{entry}: {what}")]
    Malformed {
        /// The document.
        entry: String,
        /// What is wrong, e.g. "no `layers` array".
        what: &'static str,
    },
    /// A JSON document larger than isobox reads (4 MiB).
    #[error("{entry}: larger than the {limit} bytes a JSON document may have")]
    TooLarge {
        /// The document.
        entry: String,
        /// The limit.
        limit: u64,
    },
    /// A media type isobox does not import: an unknown one, a non-distributable (foreign)
    /// layer, or zstd without the `zstd` feature.
    #[error("{entry}: media type {media_type:?} is not imported{}", if *.needs_zstd { " (build isobox with feature `zstd`)" } else { "" })]
    MediaType {
        /// The blob whose descriptor gives it.
        entry: String,
        /// The media type.
        media_type: String,
        /// The type is zstd's, which needs the `zstd` feature.
        needs_zstd: bool,
    },
    /// The manifest has not one diff-id in its config for each layer.
    #[error("{entry}: {layers} layers, but its config lists {diff_ids} diff-ids")]
    LayerCount {
        /// The manifest.
        entry: String,
        /// Layers in the manifest.
        layers: usize,
        /// Diff-ids in the config.
        diff_ids: usize,
    },
    /// A layer that could not be unpacked (a malicious or broken archive).
    #[error("layer {entry}: {source}")]
    Unpack {
        /// The layer's blob or archive entry.
        entry: String,
        /// The unpacker's error, naming the archive entry.
        #[source]
        source: UnpackError,
    },
    /// No image of that name or manifest digest.
    #[error("no image {reference:?} in {place:?}")]
    NoSuchImage {
        /// The name or digest asked for.
        reference: String,
        /// The store, layout or archive.
        place: PathBuf,
    },
    /// The source holds more than one image (or none) and none was named.
    #[error("{place:?} holds {count} images: name the one to import")]
    Ambiguous {
        /// The layout or archive.
        place: PathBuf,
        /// How many images it holds.
        count: usize,
    },
    /// An archive entry that is a link to something that is not a file of the archive (or a
    /// chain of links too long).
    #[error("archive entry {entry}: a link to {target:?}, which is not a file of the archive")]
    ArchiveLink {
        /// The link.
        entry: String,
        /// Its target.
        target: String,
    },
}

/// An `Io` error maker for `op` on `path`.
pub(crate) fn io_at(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> StoreError {
    let path = path.into();
    move |source| StoreError::Io { op, path, source }
}
