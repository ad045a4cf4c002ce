//! Where everything is in a store directory (**parent**), and making it:
//!
//! ```text
//! oci-layout, index.json, blobs/sha256/<hex>    the OCI image layout (skopeo, umoci, containerd)
//! isobox/layers/sha256/<diff-id hex>/           each layer unpacked, in overlayfs's format
//! isobox/tmp/                                    imports in progress (gc empties it)
//! isobox/lock, isobox/index.lock                 flock(2): writers shared / gc exclusive; index.json writers
//! ```

use std::path::{Path, PathBuf};

use crate::image::store::error::{io_at, StoreError};
use crate::image::store::fsutil;
use crate::image::store::media;

/// The paths of one store.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) root: PathBuf,
    pub(crate) blobs: PathBuf,
    pub(crate) layers: PathBuf,
    pub(crate) tmp: PathBuf,
}

impl Layout {
    pub(crate) fn new(root: &Path) -> Layout {
        let own = root.join("isobox");
        Layout {
            root: root.to_owned(),
            blobs: root.join("blobs/sha256"),
            layers: own.join("layers/sha256"),
            tmp: own.join("tmp"),
        }
    }

    pub(crate) fn index(&self) -> PathBuf {
        self.root.join("index.json")
    }

    /// Taken shared by whatever writes blobs, layers or the index; exclusive by gc.
    pub(crate) fn store_lock(&self) -> PathBuf {
        self.root.join("isobox/lock")
    }

    /// Taken exclusive around each read-modify-write of `index.json`.
    pub(crate) fn index_lock(&self) -> PathBuf {
        self.root.join("isobox/index.lock")
    }

    pub(crate) fn blob(&self, hex: &str) -> PathBuf {
        self.blobs.join(hex)
    }

    /// Makes what is missing; an existing `oci-layout` must be version 1.0.0's.
    pub(crate) fn create(&self) -> Result<(), StoreError> {
        for dir in [&self.blobs, &self.layers, &self.tmp] {
            std::fs::create_dir_all(dir).map_err(io_at("creating", dir))?;
        }
        // Not while gc empties `tmp/`.
        let _lock = fsutil::lock(&self.store_lock(), false)?;
        let version = br#"{"imageLayoutVersion":"1.0.0"}"#;
        let layout = self.root.join("oci-layout");
        fsutil::create_atomically(&self.tmp.join(fsutil::unique_name("oci-layout")), &layout, version)?;
        let text = std::fs::read(&layout).map_err(io_at("reading", &layout))?;
        let found = crate::image::store::json::parse(&text, "oci-layout")?;
        if found.get("imageLayoutVersion").and_then(serde_json::Value::as_str) != Some("1.0.0") {
            return Err(StoreError::Malformed { entry: "oci-layout".into(), what: "not imageLayoutVersion 1.0.0" });
        }
        let empty = serde_json::json!({ "schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": [] });
        let index = self.index();
        fsutil::create_atomically(&self.tmp.join(fsutil::unique_name("index")), &index, empty.to_string().as_bytes())?;
        Ok(())
    }
}
