//! An image of the store (**parent**): found in `index.json` by name or manifest digest, its
//! manifest and config read from `blobs/` (and checked against their digests), and any layer
//! not yet unpacked (a layout another tool wrote, or a cache emptied by hand) unpacked, with
//! its digest and diff-id checked, before the image is handed out.

use serde_json::Value;

use crate::image::store::digest::Digest;
use crate::image::store::error::StoreError;
use crate::image::store::image::{Image, ImageLayer};
use crate::image::store::json::{self, Descriptor};
use crate::image::store::layout::Layout;
use crate::image::store::source::{DirSource, Source};
use crate::image::store::stage::Stage;
use crate::image::store::{index, media, ImageStore};

/// The `Image` for a manifest and its config.
pub(crate) fn image(
    layout: &Layout,
    reference: Option<String>,
    manifest: Digest,
    parsed: &json::Manifest,
    config: json::Config,
) -> Image {
    let layers = parsed
        .layers
        .iter()
        .zip(config.diff_ids)
        .map(|(l, diff_id)| ImageLayer {
            digest: l.digest.clone(),
            diff_id,
            media_type: l.media_type.clone(),
            size: l.size,
        })
        .collect();
    Image {
        reference,
        manifest,
        config_digest: parsed.config.digest.clone(),
        config: config.image,
        layers,
        layers_root: layout.layers.clone(),
    }
}

/// The image named `reference` (or of that manifest digest), its layers unpacked.
pub(crate) fn from_store(store: &ImageStore, reference: &str) -> Result<Image, StoreError> {
    let layout = &store.layout;
    let entries = index::entries(layout)?;
    let found = entries.iter().find(|e| e.reference.as_deref() == Some(reference));
    let found = found.or_else(|| entries.iter().find(|e| e.manifest.to_string() == reference));
    let no_such = || StoreError::NoSuchImage { reference: reference.to_owned(), place: layout.root.clone() };
    let found = found.ok_or_else(no_such)?;
    let blobs = DirSource { root: layout.root.clone() };
    let mut descriptor = Descriptor { media_type: found.media_type.clone(), digest: found.manifest.clone(), size: 0 };
    let mut manifest = checked_json(&blobs, &descriptor.digest)?;
    if media::is_index(&descriptor.media_type) {
        descriptor = json::for_host(&manifest, &descriptor.path())?;
        manifest = checked_json(&blobs, &descriptor.digest)?;
    }
    let parsed = json::manifest(&manifest, &descriptor.path())?;
    let config = json::config(&checked_json(&blobs, &parsed.config.digest)?, &parsed.config.path())?;
    if config.diff_ids.len() != parsed.layers.len() {
        let (layers, diff_ids) = (parsed.layers.len(), config.diff_ids.len());
        return Err(StoreError::LayerCount { entry: descriptor.path(), layers, diff_ids });
    }
    unpack_missing(store, &parsed, &config.diff_ids)?;
    let name = found.reference.clone();
    Ok(image(layout, name, descriptor.digest, &parsed, config))
}

/// The store's JSON blob `digest`, checked.
pub(crate) fn checked_json(blobs: &DirSource, digest: &Digest) -> Result<Value, StoreError> {
    let entry = format!("blobs/sha256/{}", digest.hex());
    let bytes = blobs.read_small(&entry)?;
    let actual = Digest::of(&bytes);
    if actual != *digest {
        return Err(StoreError::DigestMismatch { entry, expected: digest.clone(), actual });
    }
    json::parse(&bytes, &entry)
}

/// Unpacks the layers that are not in the store's layer cache.
fn unpack_missing(store: &ImageStore, parsed: &json::Manifest, diff_ids: &[Digest]) -> Result<(), StoreError> {
    let missing = |d: &Digest| !store.layout.layers.join(d.hex()).exists();
    if !diff_ids.iter().any(missing) {
        return Ok(());
    }
    let mut stage = Stage::for_store(store)?;
    for (layer, diff_id) in parsed.layers.iter().zip(diff_ids) {
        let entry = layer.path();
        let compression = media::layer_compression(&layer.media_type, &entry)?;
        if !stage.has_blob(&layer.digest) {
            return Err(StoreError::Missing { entry, place: store.layout.root.clone() });
        }
        stage.layer(&entry, &layer.digest, compression, diff_id)?;
    }
    stage.commit().map(drop)
}
