//! The OCI documents isobox reads (**parent**): descriptors, manifests, image configs, as
//! `serde_json` values checked field by field (unknown fields are kept where a document is
//! rewritten, and ignored elsewhere).

use serde_json::Value;

use crate::image::store::digest::Digest;
use crate::image::store::error::StoreError;
use crate::image::store::image::ImageConfig;
use crate::image::store::media;

/// The most a JSON document (index, manifest, config) may have.
pub(crate) const MAX_JSON: u64 = 4 << 20;

/// A content descriptor: what a blob is, its digest and size.
#[derive(Debug, Clone)]
pub(crate) struct Descriptor {
    pub(crate) media_type: String,
    pub(crate) digest: Digest,
    pub(crate) size: u64,
}

impl Descriptor {
    /// The blob's path in an OCI layout.
    pub(crate) fn path(&self) -> String {
        format!("blobs/sha256/{}", self.digest.hex())
    }

    /// As JSON, for a manifest or an index.
    pub(crate) fn to_json(&self) -> Value {
        serde_json::json!({ "mediaType": self.media_type, "digest": self.digest.to_string(), "size": self.size })
    }
}

/// `bytes` parsed, naming `entry` if they are not JSON.
pub(crate) fn parse(bytes: &[u8], entry: &str) -> Result<Value, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Json { entry: entry.to_owned(), source })
}

/// The digest `text`, found in `entry`.
pub(crate) fn digest(text: &str, entry: &str) -> Result<Digest, StoreError> {
    Digest::parse(text).ok_or_else(|| StoreError::BadDigest { entry: entry.to_owned(), digest: text.to_owned() })
}

fn malformed(entry: &str, what: &'static str) -> StoreError {
    StoreError::Malformed { entry: entry.to_owned(), what }
}

/// The descriptor `v` (an object with `mediaType`, `digest`, `size`), found in `entry`.
pub(crate) fn descriptor(v: &Value, entry: &str) -> Result<Descriptor, StoreError> {
    let media_type = v
        .get("mediaType")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(entry, "a descriptor without `mediaType`"))?;
    let digest =
        v.get("digest").and_then(Value::as_str).ok_or_else(|| malformed(entry, "a descriptor without `digest`"))?;
    let size = v.get("size").and_then(Value::as_u64).ok_or_else(|| malformed(entry, "a descriptor without `size`"))?;
    Ok(Descriptor { media_type: media_type.to_owned(), digest: self::digest(digest, entry)?, size })
}

/// The array `key` of `v` (missing: `what`).
pub(crate) fn array<'v>(v: &'v Value, key: &str, entry: &str, what: &'static str) -> Result<&'v [Value], StoreError> {
    v.get(key).and_then(Value::as_array).map(Vec::as_slice).ok_or_else(|| malformed(entry, what))
}

/// The `org.opencontainers.image.ref.name` annotation of an index entry.
pub(crate) fn ref_name(v: &Value) -> Option<&str> {
    v.get("annotations")?.get(media::REF_NAME)?.as_str()
}

/// What isobox needs of an image manifest.
#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    pub(crate) config: Descriptor,
    pub(crate) layers: Vec<Descriptor>,
}

/// The manifest `v`, read from `entry`.
pub(crate) fn manifest(v: &Value, entry: &str) -> Result<Manifest, StoreError> {
    let config = descriptor(v.get("config").ok_or_else(|| malformed(entry, "a manifest without `config`"))?, entry)?;
    let layers = array(v, "layers", entry, "a manifest without a `layers` array")?;
    let layers = layers.iter().map(|l| descriptor(l, entry)).collect::<Result<_, _>>()?;
    Ok(Manifest { config, layers })
}

/// What isobox needs of an image config.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) diff_ids: Vec<Digest>,
    pub(crate) image: ImageConfig,
}

/// The image config `v`, read from `entry`.
pub(crate) fn config(v: &Value, entry: &str) -> Result<Config, StoreError> {
    let rootfs = v.get("rootfs").ok_or_else(|| malformed(entry, "a config without `rootfs`"))?;
    let ids = array(rootfs, "diff_ids", entry, "a config without a `rootfs.diff_ids` array")?;
    let diff_ids = ids
        .iter()
        .map(|d| d.as_str().ok_or_else(|| malformed(entry, "a diff-id that is not a string")))
        .map(|d| d.and_then(|d| digest(d, entry)))
        .collect::<Result<_, _>>()?;
    let c = v.get("config").unwrap_or(&Value::Null);
    let strings = |key: &str| -> Result<Vec<String>, StoreError> {
        match c.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|s| {
                    s.as_str().map(str::to_owned).ok_or_else(|| malformed(entry, "a config list with a non-string"))
                })
                .collect(),
            Some(_) => Err(malformed(entry, "a config field that should be a list of strings")),
        }
    };
    let string = |key: &str| c.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let image = ImageConfig {
        entrypoint: strings("Entrypoint")?,
        cmd: strings("Cmd")?,
        env: strings("Env")?,
        working_dir: string("WorkingDir"),
        user: string("User"),
    };
    Ok(Config { diff_ids, image })
}

/// The entry of index `v` (read from `entry`) that is for this host's platform.
pub(crate) fn for_host(v: &Value, entry: &str) -> Result<Descriptor, StoreError> {
    let arch = media::host_architecture();
    let manifests = array(v, "manifests", entry, "an index without a `manifests` array")?;
    let on_host = |m: &&Value| {
        let p = m.get("platform");
        let field = |k: &str| p.and_then(|p| p.get(k)).and_then(Value::as_str);
        field("os") == Some("linux") && field("architecture") == Some(arch)
    };
    let found = manifests
        .iter()
        .find(on_host)
        .ok_or_else(|| malformed(entry, "an index with no manifest for this platform"))?;
    descriptor(found, entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_config() {
        let d = Digest::of(b"x").to_string();
        let v = serde_json::json!({
            "rootfs": { "type": "layers", "diff_ids": [d] },
            "config": { "Entrypoint": ["/bin/sh"], "Cmd": null, "Env": ["A=1"], "WorkingDir": "/w", "User": "" }
        });
        let c = config(&v, "cfg").unwrap();
        assert_eq!(c.diff_ids, [Digest::of(b"x")]);
        assert_eq!(c.image.entrypoint, ["/bin/sh"]);
        assert!(c.image.cmd.is_empty());
        assert_eq!((c.image.working_dir.as_deref(), c.image.user.as_deref()), (Some("/w"), None));
        let bad = serde_json::json!({ "rootfs": { "diff_ids": ["md5:00"] } });
        assert!(matches!(config(&bad, "cfg"), Err(StoreError::BadDigest { .. })));
        assert!(matches!(config(&serde_json::json!({}), "cfg"), Err(StoreError::Malformed { .. })));
    }
}
