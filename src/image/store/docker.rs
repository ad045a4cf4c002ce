//! Importing a docker-archive (`docker save`, `skopeo copy … docker-archive:`) (**parent**).
//! Its `manifest.json` lists, per image, the config file, the repo tags and the layer files:
//! `<id>/layer.tar` (often symlinks to `<diff-id>.tar`), or `blobs/sha256/<hex>` since Docker
//! 25. The config is checked against the digest its name gives, each layer against its diff-id
//! in the config (an uncompressed layer's blob digest is its diff-id; a compressed one's, found
//! by its magic bytes, is computed), and an OCI manifest is written for the image.

use std::io::Read;

use serde_json::Value;

use crate::image::store::digest::Digest;
use crate::image::store::error::StoreError;
use crate::image::store::image::Imported;
use crate::image::store::json::{self, Descriptor};
use crate::image::store::media::{self, Compression};
use crate::image::store::source::{ArchiveSource, Source};
use crate::image::store::stage::{Expect, Stage};
use crate::image::store::{import, ImageStore};

fn malformed(what: &'static str) -> StoreError {
    StoreError::Malformed { entry: "manifest.json".into(), what }
}

/// Imports the image tagged `reference` (or the only one) of the docker-archive `source`.
pub(crate) fn import(
    store: &ImageStore,
    source: &ArchiveSource,
    reference: Option<&str>,
) -> Result<Imported, StoreError> {
    let doc = json::parse(&source.read_small("manifest.json")?, "manifest.json")?;
    let (item, name) = pick(&doc, reference, source)?;
    let config_name =
        item.get("Config").and_then(Value::as_str).ok_or_else(|| malformed("an image without `Config`"))?;
    let layer_names = json::array(item, "Layers", "manifest.json", "an image without a `Layers` array")?;
    let layer_names: Vec<&str> = layer_names
        .iter()
        .map(|l| l.as_str().ok_or_else(|| malformed("a layer name that is not a string")))
        .collect::<Result<_, _>>()?;
    let mut stage = Stage::for_store(store)?;
    let (config_d, config) = config(&mut stage, source, config_name)?;
    if config.diff_ids.len() != layer_names.len() {
        let (layers, diff_ids) = (layer_names.len(), config.diff_ids.len());
        return Err(StoreError::LayerCount { entry: "manifest.json".into(), layers, diff_ids });
    }
    let mut layers = Vec::new();
    for (entry, diff_id) in layer_names.into_iter().zip(&config.diff_ids) {
        layers.push(layer(&mut stage, source, entry, diff_id)?);
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": config_d.to_json(),
        "layers": layers.iter().map(Descriptor::to_json).collect::<Vec<_>>(),
    });
    let bytes =
        serde_json::to_vec(&manifest).map_err(|source| StoreError::Json { entry: "manifest".into(), source })?;
    let digest = Digest::of(&bytes);
    let manifest_d = Descriptor { media_type: media::OCI_MANIFEST.into(), digest, size: bytes.len() as u64 };
    stage.blob(&manifest_d.path(), || Ok(&bytes[..]), Expect { digest: Some(&manifest_d.digest), size: None })?;
    let parsed = json::Manifest { config: config_d, layers };
    import::publish(store, stage, &manifest_d, name.as_deref(), &parsed, config)
}

/// The image of `doc` tagged `reference`, or its only one; and its name.
fn pick<'v>(
    doc: &'v Value,
    reference: Option<&str>,
    source: &ArchiveSource,
) -> Result<(&'v Value, Option<String>), StoreError> {
    let items = doc.as_array().ok_or_else(|| malformed("not a list of images"))?;
    let tags = |item: &'v Value| -> Vec<&'v str> {
        let tags = item.get("RepoTags").and_then(Value::as_array);
        tags.map(|t| t.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
    };
    let place = source.place().to_owned();
    match reference {
        Some(r) => items
            .iter()
            .find(|i| tags(i).contains(&r))
            .map(|i| (i, Some(r.to_owned())))
            .ok_or_else(|| StoreError::NoSuchImage { reference: r.to_owned(), place }),
        None if items.len() == 1 => Ok((&items[0], tags(&items[0]).first().map(|t| (*t).to_owned()))),
        None => Err(StoreError::Ambiguous { place, count: items.len() }),
    }
}

/// The digest a name gives: `blobs/sha256/<hex>`, or with `json`, `<hex>.json`.
fn named_digest(name: &str, json: bool) -> Option<Digest> {
    let hex = name.strip_prefix("blobs/sha256/").or_else(|| if json { name.strip_suffix(".json") } else { None });
    hex.and_then(Digest::from_hex)
}

/// The config `entry`, checked against its name and staged.
fn config(
    stage: &mut Stage<'_>,
    source: &ArchiveSource,
    entry: &str,
) -> Result<(Descriptor, json::Config), StoreError> {
    let bytes = source.read_small(entry)?;
    let digest = Digest::of(&bytes);
    if let Some(expected) = named_digest(entry, true).filter(|d| *d != digest) {
        return Err(StoreError::DigestMismatch { entry: entry.to_owned(), expected, actual: digest });
    }
    stage.blob(entry, || Ok(&bytes[..]), Expect { digest: Some(&digest), size: Some(bytes.len() as u64) })?;
    let config = json::config(&json::parse(&bytes, entry)?, entry)?;
    Ok((Descriptor { media_type: media::OCI_CONFIG.into(), digest, size: bytes.len() as u64 }, config))
}

/// The layer `entry`: staged (unless the store has it), unpacked, checked; its descriptor.
fn layer(
    stage: &mut Stage<'_>,
    source: &ArchiveSource,
    entry: &str,
    diff_id: &Digest,
) -> Result<Descriptor, StoreError> {
    let mut head = Vec::with_capacity(4);
    let read = source.open(entry)?.take(4).read_to_end(&mut head);
    read.map_err(crate::image::store::error::io_at("reading", source.place().join(entry)))?;
    let compression = Compression::sniff(&head).check_supported(entry)?;
    let expected = match compression {
        Compression::None => Some(diff_id.clone()),
        _ => named_digest(entry, false),
    };
    let expect = Expect { digest: expected.as_ref(), size: None };
    let digest = stage.blob_from(entry, source, expect).map_err(|e| match e {
        StoreError::DigestMismatch { entry, expected, actual } if compression == Compression::None => {
            StoreError::DiffIdMismatch { entry, expected, actual }
        }
        e => e,
    })?;
    stage.layer(entry, &digest, compression, diff_id)?;
    let path = stage.blob_path(&digest);
    let size = std::fs::metadata(&path).map_err(crate::image::store::error::io_at("reading", path))?.len();
    Ok(Descriptor { media_type: compression.oci_media_type().into(), digest, size })
}
