//! One import's staging area (**parent**): `isobox/tmp/import-…/`. Every blob is copied there,
//! hashed while written, synced and checked against its descriptor; every layer is unpacked
//! there from its blob, its diff-id hashed while decompressed and checked against the config.
//! Only when all of the image is in does `commit` rename each into place (blobs first, then
//! layers; one already there is kept, and ours dropped), so a failed or interrupted import
//! publishes nothing half-written, and dropping a `Stage` removes its directory.
//! The store lock is held shared the whole time, so gc, which takes it exclusive, never
//! collects a blob an import is about to reference.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use nix::fcntl::Flock;

use crate::image::error::UnpackErrorKind;
use crate::image::store::digest::{Digest, Hashing};
use crate::image::store::error::{io_at, StoreError};
use crate::image::store::fsutil::{self, copy_synced, CopyError};
use crate::image::store::image::ImportReport;
use crate::image::store::layout::Layout;
use crate::image::store::limits::{Bounded, StoreLimits};
use crate::image::store::media::Compression;
use crate::image::store::source::Source;
use crate::image::store::ImageStore;
use crate::image::unpack::{unpack_limited, UnpackOptions};

/// What a blob should be: its digest and size, where known.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Expect<'a> {
    pub(crate) digest: Option<&'a Digest>,
    pub(crate) size: Option<u64>,
}

pub(crate) struct Stage<'l> {
    layout: &'l Layout,
    options: UnpackOptions,
    limits: StoreLimits,
    dir: PathBuf,
    blobs: Vec<(Digest, u64)>,
    layers: Vec<Digest>,
    /// Blobs this import hashed itself (not hashed again to unpack).
    verified: HashSet<Digest>,
    /// (blob, diff-id) pairs this import checked (by unpacking the blob or hashing it).
    paired: HashSet<(Digest, Digest)>,
    report: ImportReport,
    _lock: Flock<File>,
}

impl<'l> Stage<'l> {
    /// A stage without limits ([`Stage::for_store`] applies the store's).
    pub(crate) fn new(layout: &'l Layout, options: UnpackOptions) -> Result<Stage<'l>, StoreError> {
        let lock = fsutil::lock(&layout.store_lock(), false)?;
        let dir = layout.tmp.join(fsutil::unique_name("import"));
        std::fs::create_dir(&dir).map_err(io_at("creating", &dir))?;
        Ok(Stage {
            layout,
            options,
            limits: StoreLimits::none(),
            dir,
            blobs: Vec::new(),
            layers: Vec::new(),
            verified: HashSet::new(),
            paired: HashSet::new(),
            report: ImportReport::default(),
            _lock: lock,
        })
    }

    /// A stage of `store`, with its unpack options and limits.
    pub(crate) fn for_store(store: &'l ImageStore) -> Result<Stage<'l>, StoreError> {
        let mut stage = Stage::new(&store.layout, store.options)?;
        stage.limits = store.limits;
        Ok(stage)
    }

    /// Whether the store has the blob, or this import staged it.
    pub(crate) fn has_blob(&self, digest: &Digest) -> bool {
        self.verified.contains(digest) || self.layout.blob(digest.hex()).exists()
    }

    /// Whether this import copied the blob (rather than finding it in the store).
    fn staged(&self, digest: &Digest) -> bool {
        self.blobs.iter().any(|(d, _)| d == digest)
    }

    /// Where the blob is: staged, or in the store.
    pub(crate) fn blob_path(&self, digest: &Digest) -> PathBuf {
        match self.staged(digest) {
            true => self.dir.join(digest.hex()),
            false => self.layout.blob(digest.hex()),
        }
    }

    /// Copies the blob `entry` from what `open` opens, unless the store has `expect.digest`,
    /// checking it against `expect`; its digest. A read error names `entry` only: see
    /// [`Stage::blob_from`].
    pub(crate) fn blob<R: Read>(
        &mut self,
        entry: &str,
        open: impl FnOnce() -> Result<R, StoreError>,
        expect: Expect<'_>,
    ) -> Result<Digest, StoreError> {
        self.copy_in(entry, Path::new(""), open, expect)
    }

    /// As [`Stage::blob`], the blob `entry` of `source`.
    pub(crate) fn blob_from(
        &mut self,
        entry: &str,
        source: &dyn Source,
        expect: Expect<'_>,
    ) -> Result<Digest, StoreError> {
        self.copy_in(entry, source.place(), || source.open(entry), expect)
    }

    fn copy_in<R: Read>(
        &mut self,
        entry: &str,
        place: &Path,
        open: impl FnOnce() -> Result<R, StoreError>,
        expect: Expect<'_>,
    ) -> Result<Digest, StoreError> {
        if let Some(digest) = expect.digest.filter(|d| self.has_blob(d)) {
            if !self.verified.contains(digest) {
                self.report.blobs_present += 1;
            }
            return Ok(digest.clone());
        }
        let max = self.limits.max_blob_bytes;
        let over = |limit| StoreError::Limit { entry: entry.to_owned(), what: "bytes of a blob", limit };
        if let Some(limit) = max.filter(|&m| expect.size.is_some_and(|s| s > m)) {
            return Err(over(limit));
        }
        let src = open()?;
        let partial = self.dir.join(fsutil::unique_name("partial"));
        let cap = match (expect.size, max) {
            (Some(s), Some(m)) => Some(s.min(m)),
            (s, m) => s.or(m),
        };
        let (digest, len) = copy_synced(src, &partial, cap).map_err(|e| match e {
            CopyError::Read(source) => {
                StoreError::SourceRead { entry: entry.to_owned(), place: place.to_owned(), source }
            }
            CopyError::Write(e) => io_at("writing a staged blob", &partial)(e),
        })?;
        if let Some(limit) = max.filter(|&m| len > m) {
            return Err(over(limit));
        }
        if let Some(expected) = expect.size.filter(|&s| s != len) {
            return Err(StoreError::SizeMismatch { entry: entry.to_owned(), expected, actual: len });
        }
        if let Some(expected) = expect.digest.filter(|&d| *d != digest) {
            return Err(StoreError::DigestMismatch {
                entry: entry.to_owned(),
                expected: expected.clone(),
                actual: digest,
            });
        }
        if self.verified.insert(digest.clone()) {
            let path = self.dir.join(digest.hex());
            std::fs::rename(&partial, &path).map_err(io_at("renaming a blob to", path))?;
            self.blobs.push((digest.clone(), len));
        }
        Ok(digest)
    }

    /// Unpacks the layer `entry` (blob `blob`, compressed with `compression`) unless the
    /// store has it, checking its diff-id (and the blob's digest, if this import did not).
    /// A layer the cache has is not unpacked again, but a blob this import copied is still
    /// decompressed and hashed: its diff-id must be the one it is taken for.
    pub(crate) fn layer(
        &mut self,
        entry: &str,
        blob: &Digest,
        compression: Compression,
        diff_id: &Digest,
    ) -> Result<(), StoreError> {
        let pair = (blob.clone(), diff_id.clone());
        if self.paired.contains(&pair) {
            return Ok(());
        }
        let ours = self.layers.contains(diff_id);
        let cached = ours || self.layout.layers.join(diff_id.hex()).exists();
        if cached && !ours {
            self.report.layers_present += 1;
        }
        if cached && !self.staged(blob) {
            return Ok(()); // the store's blob: checked when it came in
        }
        let dir = self.dir.join(format!("layer-{}", diff_id.hex()));
        let into = if cached { None } else { Some(dir.as_path()) };
        self.read_layer(entry, blob, compression, diff_id, into)?;
        if !cached {
            self.layers.push(diff_id.clone());
        }
        self.paired.insert(pair);
        Ok(())
    }

    /// Decompresses the blob, unpacking it into `into` (or only hashing it), and checks its
    /// diff-id and (if this import did not) its digest.
    fn read_layer(
        &self,
        entry: &str,
        blob: &Digest,
        compression: Compression,
        diff_id: &Digest,
        into: Option<&Path>,
    ) -> Result<(), StoreError> {
        let path = self.blob_path(blob);
        let file = File::open(&path).map_err(io_at("opening", &path))?;
        let mut compressed = Hashing::new(io::BufReader::with_capacity(1 << 20, file));
        let reading = io_at("reading the layer", &path);
        let plain = compression.reader(&mut compressed).map_err(io_at("reading the layer", &path))?;
        let mut plain = Hashing::new(Bounded::new(plain, self.limits.max_layer_bytes));
        let limit =
            |what, limit: Option<u64>| StoreError::Limit { entry: entry.to_owned(), what, limit: limit.unwrap_or(0) };
        let too_large = || limit("bytes of an uncompressed layer", self.limits.max_layer_bytes);
        if let Some(dir) = into {
            std::fs::create_dir(dir).map_err(io_at("creating", dir))?;
            let unpacked = unpack_limited(&mut plain, dir, &self.options, self.limits.max_layer_entries);
            unpacked.map_err(|source| match source.kind {
                _ if plain.get_ref().exceeded => too_large(),
                UnpackErrorKind::TooManyEntries { .. } => limit("entries in a layer", self.limits.max_layer_entries),
                _ => StoreError::Unpack { entry: entry.to_owned(), source },
            })?;
        }
        let drained = plain.drain();
        if plain.get_ref().exceeded {
            return Err(too_large());
        }
        drained.map_err(io_at("reading the layer", &path))?;
        let (actual, _) = plain.finish();
        compressed.drain().map_err(reading)?;
        if actual != *diff_id {
            return Err(StoreError::DiffIdMismatch { entry: entry.to_owned(), expected: diff_id.clone(), actual });
        }
        let (digest, _) = compressed.finish();
        if !self.verified.contains(blob) && digest != *blob {
            return Err(StoreError::DigestMismatch { entry: entry.to_owned(), expected: blob.clone(), actual: digest });
        }
        Ok(())
    }

    /// Publishes every staged blob, then every staged layer; what was written. The store lock
    /// is held until the stage is dropped, so that the index names the blobs before gc runs.
    pub(crate) fn commit(&mut self) -> Result<ImportReport, StoreError> {
        for (digest, len) in std::mem::take(&mut self.blobs) {
            let dest = self.layout.blob(digest.hex());
            if dest.exists() {
                self.report.blobs_present += 1;
                continue;
            }
            let staged = self.dir.join(digest.hex());
            std::fs::rename(&staged, &dest).map_err(io_at("publishing a blob as", &dest))?;
            self.report.blobs_written += 1;
            self.report.bytes_written += len;
        }
        fsutil::sync_dir(&self.layout.blobs)?;
        if self.layers.is_empty() {
            return Ok(self.report);
        }
        // The unpacked files reach the disk before their directory is published.
        let dir = File::open(&self.dir).map_err(io_at("opening", &self.dir))?;
        nix::unistd::syncfs(dir.as_raw_fd()).map_err(|e| io_at("syncing the file system of", &self.dir)(e.into()))?;
        for diff_id in std::mem::take(&mut self.layers) {
            let dest = self.layout.layers.join(diff_id.hex());
            match std::fs::rename(self.dir.join(format!("layer-{}", diff_id.hex())), &dest) {
                Ok(()) => self.report.layers_unpacked += 1,
                // Another import published it first (rename(2) onto a non-empty directory).
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTEMPTY | libc::EEXIST)) => {
                    self.report.layers_present += 1;
                }
                Err(e) => return Err(io_at("publishing a layer as", dest)(e)),
            }
        }
        fsutil::sync_dir(&self.layout.layers)?;
        Ok(self.report)
    }
}

impl Drop for Stage<'_> {
    fn drop(&mut self) {
        let _ = fsutil::remove_tree(&self.dir);
    }
}
