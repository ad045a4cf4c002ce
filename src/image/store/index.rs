//! The store's `index.json` (**parent**): the images it holds, named by their
//! `org.opencontainers.image.ref.name` annotation as skopeo and umoci name them. Readers read
//! it without a lock (it is only ever replaced by a rename); writers hold `index.lock` around
//! each read-modify-write, and keep every entry and field they do not know.

use serde_json::Value;

use crate::image::store::digest::Digest;
use crate::image::store::error::{io_at, StoreError};
use crate::image::store::fsutil;
use crate::image::store::image::ImageEntry;
use crate::image::store::json::{self, Descriptor};
use crate::image::store::layout::Layout;
use crate::image::store::media;

/// The index as it is on disk.
pub(crate) fn read(layout: &Layout) -> Result<Value, StoreError> {
    let path = layout.index();
    let bytes = std::fs::read(&path).map_err(io_at("reading", &path))?;
    let index = json::parse(&bytes, "index.json")?;
    json::array(&index, "manifests", "index.json", "an index without a `manifests` array")?;
    Ok(index)
}

/// The index's entries.
pub(crate) fn entries(layout: &Layout) -> Result<Vec<ImageEntry>, StoreError> {
    let index = read(layout)?;
    let manifests = json::array(&index, "manifests", "index.json", "an index without a `manifests` array")?;
    manifests
        .iter()
        .map(|m| {
            let d = json::descriptor(m, "index.json")?;
            Ok(ImageEntry {
                reference: json::ref_name(m).map(str::to_owned),
                manifest: d.digest,
                media_type: d.media_type,
            })
        })
        .collect()
}

/// Adds `manifest` under `name`, replacing any entry of that name (or, unnamed, any other
/// unnamed entry of that digest).
pub(crate) fn add(layout: &Layout, manifest: &Descriptor, name: Option<&str>) -> Result<(), StoreError> {
    update(layout, |entries| {
        let digest = manifest.digest.to_string();
        entries.retain(|m| match name {
            Some(name) => json::ref_name(m) != Some(name),
            None => json::ref_name(m).is_some() || m.get("digest").and_then(Value::as_str) != Some(&digest),
        });
        let mut entry = manifest.to_json();
        if let Some(name) = name {
            entry["annotations"] = serde_json::json!({ media::REF_NAME: name });
        }
        entries.push(entry);
        true
    })
    .map(drop)
}

/// Removes the entries named `reference`, or of that manifest digest; whether any was.
pub(crate) fn remove(layout: &Layout, reference: &str) -> Result<bool, StoreError> {
    let digest = reference.strip_prefix("sha256:").and_then(Digest::from_hex).map(|d| d.to_string());
    update(layout, |entries| {
        let before = entries.len();
        entries.retain(|m| {
            let by_digest = digest.is_some() && m.get("digest").and_then(Value::as_str) == digest.as_deref();
            !(json::ref_name(m) == Some(reference) || by_digest)
        });
        entries.len() != before
    })
}

/// Runs `change` on the index's entries under the index lock and writes the index back if it
/// says so; its answer.
fn update(layout: &Layout, change: impl FnOnce(&mut Vec<Value>) -> bool) -> Result<bool, StoreError> {
    let _lock = fsutil::lock(&layout.index_lock(), true)?;
    let mut index = read(layout)?;
    let Some(Value::Array(entries)) = index.get_mut("manifests") else {
        return Err(StoreError::Malformed { entry: "index.json".into(), what: "an index without a `manifests` array" });
    };
    if !change(entries) {
        return Ok(false);
    }
    let bytes = serde_json::to_vec(&index).map_err(|source| StoreError::Json { entry: "index.json".into(), source })?;
    fsutil::write_atomically(&layout.tmp.join(fsutil::unique_name("index")), &layout.index(), &bytes)?;
    Ok(true)
}
