//! What committing an upper directory can fail at (**parent**): each error names the file of
//! the upper directory concerned, or is the store's.

use std::io;
use std::path::PathBuf;

use crate::image::store::error::StoreError;

/// A commit (or [`write_layer`](crate::write_layer)) that failed. A failure while the layer is
/// written or unpacked leaves nothing in the store (both are written under temporary names
/// first, removed on the way out); one after the layer's blob was renamed into place (writing
/// the unpacked layer, the config, the manifest or the index) leaves that blob, and maybe the
/// unpacked layer, in the store but named by no image, until [`gc`](crate::ImageStore::gc).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A system call on the upper directory failed (its errno in `source`).
    #[error("{op} {path:?} of the upper directory: {source}")]
    Walk {
        /// What was being done.
        op: &'static str,
        /// The file, relative to the upper directory (empty: the directory itself).
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A file whose name starts with `.wh.`: in a layer that name is a whiteout, so the file
    /// would become a deletion.
    #[error("{path:?} of the upper directory: a name starting with `.wh.` means a deletion in a layer")]
    WhiteoutName {
        /// The file, relative to the upper directory.
        path: PathBuf,
    },
    /// A file or directory carrying an overlay mark a layer cannot express: a renamed
    /// directory's redirect (`redirect_dir=on`) or a metadata-only copy-up (`metacopy=on`),
    /// whose content stays in a lower layer.
    #[error(
        "{path:?} of the upper directory has {xattr}: a layer cannot express it \
         (the overlay was mounted with redirect_dir or metacopy on; mount without them to commit)"
    )]
    OverlayFeature {
        /// The file, relative to the upper directory.
        path: PathBuf,
        /// The xattr, e.g. `trusted.overlay.redirect`.
        xattr: &'static str,
    },
    /// A file whose size changed while it was read (the sandbox is still writing it).
    #[error("{path:?} of the upper directory changed while it was read: commit after the sandbox ends")]
    Changed {
        /// The file, relative to the upper directory.
        path: PathBuf,
    },
    /// The layer would be past a limit of [`LayerOptions::limits`](crate::LayerOptions::limits)
    /// (a commit: the store's [`StoreLimits`](crate::StoreLimits)); refused before the file is
    /// read, or the directory listed further.
    #[error("{path:?} of the upper directory: the layer would have more {what} than the limit of {limit}")]
    Limit {
        /// The file, relative to the upper directory (for the entries, the directory being
        /// listed; empty: the upper directory itself, or the layer's blob).
        path: PathBuf,
        /// What is counted: `bytes of an uncompressed layer`, `entries in a layer` or
        /// `bytes of a blob`.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// Writing the layer archive failed (to the caller's writer, or the store's blob file).
    #[error("writing the layer: {source}")]
    Write {
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The base image is not in this store (its config or a layer blob is missing), or the
    /// store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a `Limit` counts.
pub(crate) const ENTRIES: &str = "entries in a layer";
pub(crate) const LAYER_BYTES: &str = "bytes of an uncompressed layer";
pub(crate) const BLOB_BYTES: &str = "bytes of a blob";

/// A `Walk` error maker for `op` on `path`.
pub(crate) fn walk_at(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> BuildError {
    let path = path.into();
    move |source| BuildError::Walk { op, path, source }
}
