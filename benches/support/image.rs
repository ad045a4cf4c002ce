//! Images for the benches: layer tars written here, put in an OCI layout and imported into an
//! `ImageStore` (opened for sandboxes with a user namespace), so that a bench runs a real
//! store's image through `SandboxBuilder::image`.

use std::path::Path;

use isobox::{Image, ImageStore, UnpackOptions, UserMapping};
use serde_json::json;
use sha2::Digest as _;

/// One entry of a layer: a directory (name ends in '/'), a file with its mode, or a symlink
/// (contents `-> target`).
pub type Entry = (String, Vec<u8>, u32);

/// A layer tar of `entries`, owned 0:0.
pub fn layer(entries: &[Entry]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, data, mode) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(*mode);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h.set_size(0);
        if let Some(dir) = name.strip_suffix('/') {
            h.set_entry_type(tar::EntryType::Directory);
            tar.append_data(&mut h, dir, &[][..]).unwrap();
        } else if let Some(target) = data.strip_prefix(b"-> ") {
            h.set_entry_type(tar::EntryType::Symlink);
            tar.append_link(&mut h, name, std::str::from_utf8(target).unwrap()).unwrap();
        } else {
            h.set_size(data.len() as u64);
            tar.append_data(&mut h, name, &data[..]).unwrap();
        }
    }
    tar.into_inner().unwrap()
}

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// Imports an image of `layers` (lowest first) with `config` as `name` into a store at
/// `dir/store` (its layout written to `dir/layout` first).
pub fn import(dir: &Path, name: &str, layers: &[Vec<u8>], config: serde_json::Value) -> (ImageStore, Image) {
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux", "config": config,
        "rootfs": { "type": "layers", "diff_ids": layers.iter().map(|l| digest(l)).collect::<Vec<_>>() },
    }))
    .unwrap();
    let descriptor =
        |media: &str, blob: &[u8]| json!({ "mediaType": media, "digest": digest(blob), "size": blob.len() });
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptor("application/vnd.oci.image.config.v1+json", &config),
        "layers": layers.iter().map(|l| descriptor("application/vnd.oci.image.layer.v1.tar", l)).collect::<Vec<_>>(),
    }))
    .unwrap();
    let mut entry = descriptor("application/vnd.oci.image.manifest.v1+json", &manifest);
    entry["annotations"] = json!({ "org.opencontainers.image.ref.name": name });
    let layout = dir.join("layout");
    std::fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    for blob in layers.iter().chain([&config, &manifest]) {
        std::fs::write(layout.join("blobs/sha256").join(&digest(blob)[7..]), blob).unwrap();
    }
    std::fs::write(layout.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = json!({ "schemaVersion": 2, "manifests": [entry] });
    std::fs::write(layout.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let options = UnpackOptions::for_user_namespace(&UserMapping::Unprivileged).unwrap();
    let store = ImageStore::open(dir.join("store")).unwrap().with_unpack_options(options);
    let image = store.import_oci_dir(&layout, Some(name)).unwrap().image;
    (store, image)
}

/// The fixture's image tree as a store image of three layers: the mount points, the tiny
/// program, `etc/motd` (as `Fixture::layers`, but through the store).
pub fn tiny_image(dir: &Path, tiny: &Path) -> Image {
    let tiny = std::fs::read(tiny).unwrap();
    let l0 = layer(&[("proc/".into(), vec![], 0o755), ("dev/".into(), vec![], 0o755)]);
    let l1 = layer(&[("tiny".into(), tiny, 0o755)]);
    let l2 = layer(&[("etc/".into(), vec![], 0o755), ("etc/motd".into(), b"an image\n".to_vec(), 0o644)]);
    import(dir, "tiny:1", &[l0, l1, l2], json!({ "Cmd": ["/tiny"] })).1
}
