//! The image store (**parent**): an OCI image layout in a directory (`oci-layout`,
//! `index.json`, `blobs/sha256/`), which skopeo copies in and out of, umoci reads, and
//! containerd imports tarred as an oci-archive (and what it exports imports back),
//! with isobox's cache of unpacked layers beside it (`isobox/layers/sha256/<diff-id>/`); see
//! [`layout`] for the tree and ARCHITECTURE.md for why.
//!
//! - [`import`], [`docker`]: OCI layouts (directories, oci-archive) and docker-archives, read
//!   through a [`source::Source`] (tarballs indexed, never extracted);
//! - [`stage`]: one import's blobs and layers, checked (sha256 of every blob against its
//!   descriptor, every diff-id against the config) and published only once all are in;
//! - [`load`]: an image from the index, unpacking any layer the cache lacks;
//! - [`index`]: `index.json`, named by ref-name annotations; [`gc`]: what no image reaches.
//!
//! Concurrency: blobs, layers and the index are written to temporary names in `isobox/tmp/`
//! and renamed into place, so a reader never sees half of one; imports hold `isobox/lock`
//! shared and gc exclusive; each `index.json` update holds `isobox/index.lock`.

pub(crate) mod digest;
pub(crate) mod docker;
pub(crate) mod error;
pub(crate) mod fsutil;
pub(crate) mod gc;
pub(crate) mod image;
pub(crate) mod import;
pub(crate) mod index;
pub(crate) mod json;
pub(crate) mod layout;
pub(crate) mod limits;
pub(crate) mod load;
pub(crate) mod media;
pub(crate) mod source;
pub(crate) mod stage;

use std::path::Path;

use crate::image::build::error::BuildError;
use crate::image::build::spec::CommitOptions;
use crate::image::store::error::{io_at, StoreError};
use crate::image::store::image::{GcReport, Image, ImageEntry, Imported};
use crate::image::store::layout::Layout;
use crate::image::store::limits::StoreLimits;
use crate::image::store::source::{ArchiveSource, DirSource};
use crate::image::unpack::UnpackOptions;

/// A store of images made of shared layers, in a directory: an OCI image layout plus isobox's
/// cache of unpacked layers. A layer shared by several images is stored and unpacked once.
/// Several `ImageStore`s (in one process or several) may use one directory at once.
#[derive(Debug, Clone)]
pub struct ImageStore {
    pub(crate) layout: Layout,
    pub(crate) options: UnpackOptions,
    pub(crate) limits: StoreLimits,
}

impl ImageStore {
    /// Opens the store in `dir`, creating the directory and the layout as needed. Its path
    /// is made absolute (symlinks resolved), and so are the layer directories it hands out.
    /// Layers are unpacked with [`UnpackOptions::default`] (owners and `trusted.` xattrs as
    /// root; the caller's ids and `user.` xattrs otherwise), so a store is meant to be used
    /// by one user.
    pub fn open(dir: impl AsRef<Path>) -> Result<ImageStore, StoreError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(io_at("creating", dir))?;
        // Absolute, so that layer directories are too (overlay lower dirs).
        let dir = std::fs::canonicalize(dir).map_err(io_at("resolving", dir))?;
        let layout = Layout::new(&dir);
        layout.create()?;
        Ok(ImageStore { layout, options: UnpackOptions::default(), limits: StoreLimits::none() })
    }

    /// The same store, unpacking layers with `options` from now on (layers already
    /// unpacked stay as they are).
    #[must_use]
    pub fn with_unpack_options(mut self, options: UnpackOptions) -> ImageStore {
        self.options = options;
        self
    }

    /// The same store, refusing from now on a blob or layer past `limits` (default: none).
    #[must_use]
    pub fn with_limits(mut self, limits: StoreLimits) -> ImageStore {
        self.limits = limits;
        self
    }

    /// The limits imports are held to.
    #[must_use]
    pub fn limits(&self) -> StoreLimits {
        self.limits
    }

    /// The store's directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.layout.root
    }

    /// Imports the image named `reference` (its `org.opencontainers.image.ref.name`, or a
    /// manifest digest), or the only image, of the OCI layout directory `dir`; it is named
    /// `reference` (or the layout's name for it) in this store.
    pub fn import_oci_dir(&self, dir: impl AsRef<Path>, reference: Option<&str>) -> Result<Imported, StoreError> {
        import::oci(self, &DirSource { root: dir.as_ref().to_owned() }, reference)
    }

    /// As [`import_oci_dir`](Self::import_oci_dir), from an oci-archive tarball (an OCI
    /// layout in a tar), read in place.
    pub fn import_oci_archive(&self, file: impl AsRef<Path>, reference: Option<&str>) -> Result<Imported, StoreError> {
        import::oci(self, &ArchiveSource::open(file.as_ref())?, reference)
    }

    /// Imports the image tagged `reference` (one of its `RepoTags`), or the only image, of
    /// the docker-archive tarball `file` (`docker save`), named by that tag (or its first).
    pub fn import_docker_archive(
        &self,
        file: impl AsRef<Path>,
        reference: Option<&str>,
    ) -> Result<Imported, StoreError> {
        docker::import(self, &ArchiveSource::open(file.as_ref())?, reference)
    }

    /// The image named `reference`, or whose manifest digest it is (`sha256:…`); layers
    /// the cache lacks (an image another tool put in the layout) are unpacked first.
    pub fn image(&self, reference: &str) -> Result<Image, StoreError> {
        load::from_store(self, reference)
    }

    /// The images of `index.json`.
    pub fn images(&self) -> Result<Vec<ImageEntry>, StoreError> {
        index::entries(&self.layout)
    }

    /// Removes the name `reference` (or every entry of that manifest digest) from the index;
    /// whether there was one. Blobs and layers stay until [`gc`](Self::gc).
    pub fn remove(&self, reference: &str) -> Result<bool, StoreError> {
        let _lock = fsutil::lock(&self.layout.store_lock(), false)?;
        index::remove(&self.layout, reference)
    }

    /// Removes every blob and unpacked layer that no image of the index reaches, and what
    /// interrupted imports left; waits for imports in progress. A sandbox still running over
    /// a removed image's layers loses them: collect when none is.
    pub fn gc(&self) -> Result<GcReport, StoreError> {
        gc::gc(&self.layout)
    }

    /// Commits `upper_dir`, a sandbox's upper directory over `base` (an image of this store:
    /// [`Child::upper_dir`](crate::Child::upper_dir) of a sandbox run with
    /// [`OverlayRoot`](crate::OverlayRoot) over `base.layer_dirs()`, an [`Upper::Dir`](crate::Upper::Dir)
    /// and `keep_upper(true)`, once it ended), as a new layer on top of `base`: the image
    /// named `options`' reference, its config the base's with `options`' changes. Deletions
    /// become whiteouts; see [`write_layer`](crate::write_layer) for what the layer holds.
    ///
    /// The layer is held to the store's [`limits`](Self::with_limits) as an imported one is
    /// (each file's size counted before it is read; [`BuildError::Limit`] past one): set them
    /// when the sandbox that wrote `upper_dir` is not trusted. Overlay marks are read in the
    /// store's xattr namespace only ([`UnpackOptions::trusted_xattrs`]), the one its
    /// sandboxes' overlays use.
    pub fn commit(
        &self,
        base: &Image,
        upper_dir: impl AsRef<Path>,
        options: &CommitOptions,
    ) -> Result<Image, BuildError> {
        crate::image::build::commit::commit(&self.layout, self.options, self.limits, base, upper_dir.as_ref(), options)
    }
}
