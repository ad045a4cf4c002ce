//! Committing an upper directory as a new image (**parent**), under the store lock held
//! shared (gc waits): the layer blob is written to `isobox/tmp/` and hashed on the way (its
//! digest, and the diff-id of the tar inside), unpacked from there with the store's
//! `UnpackOptions` into a temporary layer directory (so the cache holds exactly what unpacking
//! the blob gives), then the blob and the layer are renamed into place, the config and
//! manifest written, and the manifest named in `index.json`. A failure before the renames
//! leaves only temporaries, removed on the way out. The store's limits hold both the layer
//! writer (each file's size counted before it is read) and the unpacking of the blob, as an
//! import's; the overlay marks read are those of the store's xattr namespace.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::blob::{self, LayerBlob, Temp};
use super::config;
use super::error::{BuildError, ENTRIES, LAYER_BYTES};
use super::spec::{CommitOptions, LayerOptions};
use crate::image::error::UnpackErrorKind;
use crate::image::store::digest::{Digest, Hashing};
use crate::image::store::error::{io_at, StoreError};
use crate::image::store::fsutil;
use crate::image::store::image::{Image, ImageLayer};
use crate::image::store::index;
use crate::image::store::json::{self, Descriptor};
use crate::image::store::layout::Layout;
use crate::image::store::limits::{Bounded, StoreLimits};
use crate::image::store::media;
use crate::image::unpack::{unpack_limited, UnpackOptions};

/// Commits `upper` over `base` in the store `layout` (which unpacks with `unpack`, and holds
/// layers to `limits`).
pub(crate) fn commit(
    layout: &Layout,
    unpack: UnpackOptions,
    limits: StoreLimits,
    base: &Image,
    upper: &Path,
    options: &CommitOptions,
) -> Result<Image, BuildError> {
    let _lock = fsutil::lock(&layout.store_lock(), false)?;
    let base_config = base_config(layout, base)?;
    let layer_options =
        LayerOptions { owners: options.owners.clone(), trusted_xattrs: Some(unpack.trusted_xattrs), limits };
    let layer = blob::write(layout, upper, options, &layer_options)?;
    publish_layer(layout, unpack, limits, &layer)?;
    let config = config::new_config(base_config, base.layers.len(), &layer.diff_id, options);
    let config_bytes = to_bytes(&config, "the new config")?;
    let config_desc = publish(layout, media::OCI_CONFIG, &config_bytes)?;
    let new = ImageLayer {
        digest: layer.digest.clone(),
        diff_id: layer.diff_id.clone(),
        media_type: layer.compression.oci_media_type().to_owned(),
        size: layer.size,
    };
    let mut layers = base.layers.clone();
    layers.push(new);
    let descriptors: Vec<Descriptor> = layers
        .iter()
        .map(|l| Descriptor { media_type: l.media_type.clone(), digest: l.digest.clone(), size: l.size })
        .collect();
    let manifest_bytes = to_bytes(&config::manifest(&config_desc, &descriptors), "the new manifest")?;
    let manifest = publish(layout, media::OCI_MANIFEST, &manifest_bytes)?;
    index::add(layout, &manifest, Some(&options.reference))?;
    let image = json::config(&config, &config_desc.path())?.image;
    Ok(Image {
        reference: Some(options.reference.clone()),
        manifest: manifest.digest,
        config_digest: config_desc.digest,
        config: image,
        layers,
        layers_root: layout.layers.clone(),
    })
}

/// Unpacks the layer blob (unless the cache has its diff-id), then publishes the blob and the
/// unpacked layer.
fn publish_layer(
    layout: &Layout,
    unpack: UnpackOptions,
    limits: StoreLimits,
    layer: &LayerBlob,
) -> Result<(), BuildError> {
    let dest = layout.layers.join(layer.diff_id.hex());
    let unpacked = if dest.exists() { None } else { Some(unpack_blob(layout, unpack, limits, layer)?) };
    let blob_path = layout.blob(layer.digest.hex());
    if !blob_path.exists() {
        std::fs::rename(&layer.file.0, &blob_path).map_err(io_at("publishing a blob as", &blob_path))?;
        fsutil::sync_dir(&layout.blobs)?;
    }
    let Some(dir) = unpacked else { return Ok(()) };
    match std::fs::rename(&dir.0, &dest) {
        Ok(()) => fsutil::sync_dir(&layout.layers)?,
        // Another commit or import published it first.
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTEMPTY | libc::EEXIST)) => {}
        Err(e) => return Err(io_at("publishing a layer as", dest)(e).into()),
    }
    Ok(())
}

/// The base's config, read from this store and checked; its layer blobs must be here too.
fn base_config(layout: &Layout, base: &Image) -> Result<Value, BuildError> {
    let entry = format!("blobs/sha256/{}", base.config_digest.hex());
    let missing = |entry: String| StoreError::Missing { entry, place: layout.root.clone() };
    for layer in &base.layers {
        if !layout.blob(layer.digest.hex()).exists() {
            return Err(missing(format!("blobs/sha256/{}", layer.digest.hex())).into());
        }
    }
    let path = layout.blob(base.config_digest.hex());
    let bytes = match std::fs::read(&path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(missing(entry).into()),
        other => other.map_err(io_at("reading", &path))?,
    };
    let actual = Digest::of(&bytes);
    if actual != base.config_digest {
        return Err(StoreError::DigestMismatch { entry, expected: base.config_digest.clone(), actual }.into());
    }
    Ok(json::parse(&bytes, &entry)?)
}

/// The blob unpacked into a temporary layer directory (held to `limits`, as an import's
/// layer: the writer counted the same), synced, its diff-id checked.
fn unpack_blob(
    layout: &Layout,
    options: UnpackOptions,
    limits: StoreLimits,
    layer: &LayerBlob,
) -> Result<Temp, BuildError> {
    let entry = format!("blobs/sha256/{}", layer.digest.hex());
    let dir = Temp(layout.tmp.join(fsutil::unique_name("build-layer")));
    std::fs::create_dir(&dir.0).map_err(io_at("creating", &dir.0))?;
    let path = &layer.file.0;
    let file = File::open(path).map_err(io_at("opening", path))?;
    let reader = layer.compression.reader(io::BufReader::with_capacity(1 << 20, file));
    let reader = reader.map_err(io_at("reading the layer", path))?;
    let mut plain = Hashing::new(Bounded::new(reader, limits.max_layer_bytes));
    let limit = |what, limit: Option<u64>| BuildError::Limit { path: PathBuf::new(), what, limit: limit.unwrap_or(0) };
    let unpacked = unpack_limited(&mut plain, &dir.0, &options, limits.max_layer_entries);
    unpacked.map_err(|source| match source.kind {
        _ if plain.get_ref().exceeded => limit(LAYER_BYTES, limits.max_layer_bytes),
        UnpackErrorKind::TooManyEntries { .. } => limit(ENTRIES, limits.max_layer_entries),
        _ => StoreError::Unpack { entry: entry.clone(), source }.into(),
    })?;
    let drained = plain.drain();
    if plain.get_ref().exceeded {
        return Err(limit(LAYER_BYTES, limits.max_layer_bytes));
    }
    drained.map_err(io_at("reading the layer", path))?;
    let (actual, _) = plain.finish();
    if actual != layer.diff_id {
        return Err(StoreError::DiffIdMismatch { entry, expected: layer.diff_id.clone(), actual }.into());
    }
    let opened = File::open(&dir.0).map_err(io_at("opening", &dir.0))?;
    nix::unistd::syncfs(opened.as_raw_fd()).map_err(|e| io_at("syncing the file system of", &dir.0)(e.into()))?;
    Ok(dir)
}

fn to_bytes(v: &Value, entry: &str) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(|source| StoreError::Json { entry: entry.to_owned(), source })
}

/// Writes the blob `bytes` unless the store has it; its descriptor.
fn publish(layout: &Layout, media_type: &str, bytes: &[u8]) -> Result<Descriptor, StoreError> {
    let digest = Digest::of(bytes);
    let dest = layout.blob(digest.hex());
    if !dest.exists() {
        fsutil::write_atomically(&layout.tmp.join(fsutil::unique_name("blob")), &dest, bytes)?;
    }
    Ok(Descriptor { media_type: media_type.to_owned(), digest, size: bytes.len() as u64 })
}
