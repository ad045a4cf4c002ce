//! Importing an OCI image layout (**parent**), from a directory or an oci-archive tarball:
//! the image's manifest is found in the source's `index.json` (by its ref name, or the only
//! one; an index of platforms gives this host's), then the manifest, the config and each layer
//! blob are staged and checked against their descriptors, each layer unpacked and its diff-id
//! checked against the config, and only then published and named in the store's index.

use serde_json::Value;

use crate::image::store::digest::Digest;
use crate::image::store::error::StoreError;
use crate::image::store::image::{Image, Imported};
use crate::image::store::json::{self, Descriptor};
use crate::image::store::source::Source;
use crate::image::store::stage::{Expect, Stage};
use crate::image::store::{index, load, media, ImageStore};

/// Imports the image `reference` (or the only one) of the OCI layout `source`, naming it
/// `reference` (or the source's own name for it) in the store.
pub(crate) fn oci(store: &ImageStore, source: &dyn Source, reference: Option<&str>) -> Result<Imported, StoreError> {
    let source_index = json::parse(&source.read_small("index.json")?, "index.json")?;
    let (mut descriptor, name) = pick(&source_index, reference, source)?;
    let mut stage = Stage::for_store(store)?;
    let mut manifest = json_blob(&mut stage, source, &descriptor)?;
    if media::is_index(&descriptor.media_type) {
        descriptor = json::for_host(&manifest, &descriptor.path())?;
        manifest = json_blob(&mut stage, source, &descriptor)?;
    }
    if !media::is_manifest(&descriptor.media_type) {
        let media_type = descriptor.media_type.clone();
        return Err(StoreError::MediaType { entry: descriptor.path(), media_type, needs_zstd: false });
    }
    let entry = descriptor.path();
    let parsed = json::manifest(&manifest, &entry)?;
    let config = json_blob(&mut stage, source, &parsed.config)?;
    let config = json::config(&config, &parsed.config.path())?;
    if config.diff_ids.len() != parsed.layers.len() {
        return Err(StoreError::LayerCount { entry, layers: parsed.layers.len(), diff_ids: config.diff_ids.len() });
    }
    let compressions: Vec<_> =
        parsed.layers.iter().map(|l| media::layer_compression(&l.media_type, &l.path())).collect::<Result<_, _>>()?;
    for ((layer, diff_id), compression) in parsed.layers.iter().zip(&config.diff_ids).zip(compressions) {
        let entry = layer.path();
        let expect = Expect { digest: Some(&layer.digest), size: Some(layer.size) };
        stage.blob_from(&entry, source, expect)?;
        stage.layer(&entry, &layer.digest, compression, diff_id)?;
    }
    publish(store, stage, &descriptor, name.as_deref(), &parsed, config)
}

/// Commits the stage and names the manifest in the index.
pub(crate) fn publish(
    store: &ImageStore,
    mut stage: Stage<'_>,
    manifest: &Descriptor,
    name: Option<&str>,
    parsed: &json::Manifest,
    config: json::Config,
) -> Result<Imported, StoreError> {
    let report = stage.commit()?;
    index::add(&store.layout, manifest, name)?;
    drop(stage);
    let image: Image = load::image(&store.layout, name.map(str::to_owned), manifest.digest.clone(), parsed, config);
    Ok(Imported { image, report })
}

/// The JSON blob `d` of `source`, checked and staged.
fn json_blob(stage: &mut Stage<'_>, source: &dyn Source, d: &Descriptor) -> Result<Value, StoreError> {
    let entry = d.path();
    if d.size > json::MAX_JSON {
        return Err(StoreError::TooLarge { entry, limit: json::MAX_JSON });
    }
    let bytes = source.read_small(&entry)?;
    let expect = Expect { digest: Some(&d.digest), size: Some(d.size) };
    // Checked here even when the store has it, since it is parsed from the source's bytes.
    let actual = Digest::of(&bytes);
    if bytes.len() as u64 != d.size {
        return Err(StoreError::SizeMismatch { entry, expected: d.size, actual: bytes.len() as u64 });
    }
    if actual != d.digest {
        return Err(StoreError::DigestMismatch { entry, expected: d.digest.clone(), actual });
    }
    stage.blob(&entry, || Ok(&bytes[..]), expect)?;
    json::parse(&bytes, &entry)
}

/// The manifest descriptor of the index `v` named `reference` (or by that digest), or its
/// only one; and the name to give it.
fn pick(v: &Value, reference: Option<&str>, source: &dyn Source) -> Result<(Descriptor, Option<String>), StoreError> {
    let manifests = json::array(v, "manifests", "index.json", "an index without a `manifests` array")?;
    let found = match reference {
        Some(r) => manifests
            .iter()
            .find(|m| json::ref_name(m) == Some(r))
            .or_else(|| manifests.iter().find(|m| m.get("digest").and_then(Value::as_str) == Some(r))),
        None if manifests.len() == 1 => manifests.first(),
        None => return Err(StoreError::Ambiguous { place: source.place().to_owned(), count: manifests.len() }),
    };
    let place = source.place().to_owned();
    let found =
        found.ok_or_else(|| StoreError::NoSuchImage { reference: reference.unwrap_or("").to_owned(), place })?;
    let name = reference.filter(|r| !r.starts_with("sha256:")).or_else(|| json::ref_name(found));
    Ok((json::descriptor(found, "index.json")?, name.map(str::to_owned)))
}
