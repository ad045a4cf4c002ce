//! An image as the store holds it (**parent**): its manifest's digest, its config's run
//! defaults, its layers and their unpacked directories.

use std::path::PathBuf;

use crate::image::store::digest::Digest;

/// The parts of an image config that say how to run it (OCI image-spec `config`). An absent
/// list is empty, an absent or empty string `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageConfig {
    /// `Entrypoint`: the program and its first arguments.
    pub entrypoint: Vec<String>,
    /// `Cmd`: the default arguments (after the entrypoint), or the command without one.
    pub cmd: Vec<String>,
    /// `Env`: `NAME=value` entries.
    pub env: Vec<String>,
    /// `WorkingDir`.
    pub working_dir: Option<String>,
    /// `User`: `user`, `uid`, `user:group` or `uid:gid`, as the image gives it.
    pub user: Option<String>,
}

/// One layer of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageLayer {
    /// The digest of the layer's blob (compressed as stored).
    pub digest: Digest,
    /// The digest of the uncompressed layer: the key of its unpacked directory.
    pub diff_id: Digest,
    /// The blob's media type.
    pub media_type: String,
    /// The blob's size in bytes.
    pub size: u64,
}

/// An image in a store, its layers unpacked.
#[derive(Debug, Clone)]
pub struct Image {
    pub(crate) reference: Option<String>,
    pub(crate) manifest: Digest,
    pub(crate) config_digest: Digest,
    pub(crate) config: ImageConfig,
    pub(crate) layers: Vec<ImageLayer>,
    pub(crate) layers_root: PathBuf,
}

impl Image {
    /// The name it has in the store (`org.opencontainers.image.ref.name`), if any.
    #[must_use]
    pub fn reference(&self) -> Option<&str> {
        self.reference.as_deref()
    }

    /// The digest of its manifest, which names it whatever its reference.
    #[must_use]
    pub fn manifest_digest(&self) -> &Digest {
        &self.manifest
    }

    /// The digest of its config blob (the image id Docker shows).
    #[must_use]
    pub fn config_digest(&self) -> &Digest {
        &self.config_digest
    }

    /// The run defaults of its config.
    #[must_use]
    pub fn config(&self) -> &ImageConfig {
        &self.config
    }

    /// Its layers, lowest (the base) first.
    #[must_use]
    pub fn layers(&self) -> &[ImageLayer] {
        &self.layers
    }

    /// The unpacked directory of each layer, lowest first, in overlayfs's format (whiteouts
    /// as 0:0 character devices, opaque directories by xattr): overlayfs's `lowerdir` takes
    /// them in the opposite order, topmost first. An image that repeats a layer (Docker's
    /// empty layers often are the same one) lists its directory each time, and overlayfs
    /// refuses a directory given twice, so a caller keeps only the topmost of each. They are
    /// shared by every image of the store with that layer: never write to them.
    #[must_use]
    pub fn layer_dirs(&self) -> Vec<PathBuf> {
        self.layers.iter().map(|l| self.layers_root.join(l.diff_id.hex())).collect()
    }
}

/// An image named in the store's `index.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageEntry {
    /// Its `org.opencontainers.image.ref.name` annotation, if it has one.
    pub reference: Option<String>,
    /// Its manifest's digest.
    pub manifest: Digest,
    /// The manifest's media type.
    pub media_type: String,
}

/// What an import wrote and what it found already present.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportReport {
    /// Blobs written to `blobs/sha256/` (manifest, config and layers).
    pub blobs_written: u64,
    /// Blobs the store already had, not read from the source again.
    pub blobs_present: u64,
    /// Bytes of the blobs written.
    pub bytes_written: u64,
    /// Layers unpacked into the store's layer cache.
    pub layers_unpacked: u64,
    /// Layers already unpacked there.
    pub layers_present: u64,
}

/// An imported image and what the import wrote.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Imported {
    /// The image, as [`ImageStore::image`](crate::ImageStore::image) gives it.
    pub image: Image,
    /// What was written.
    pub report: ImportReport,
}

/// What [`ImageStore::gc`](crate::ImageStore::gc) removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GcReport {
    /// Blobs no image of the index refers to.
    pub blobs_removed: u64,
    /// Their bytes.
    pub bytes_removed: u64,
    /// Unpacked layers no image refers to.
    pub layers_removed: u64,
    /// Temporary files and directories left by interrupted imports.
    pub temporaries_removed: u64,
}
