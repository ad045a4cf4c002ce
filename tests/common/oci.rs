//! Images made by hand for the image store's tests: layer tarballs, whole OCI layouts (as
//! directories and oci-archives) and docker-archives, with digests computed here so that a
//! test can make any of them wrong on purpose.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

use serde_json::{json, Value};
use sha2::Digest as _;

/// The hex sha256 of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// `sha256:<hex>`.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(bytes))
}

/// One entry of a layer: a file (`data`), a directory (name ends in '/'), a symlink
/// (`-> target` in `data`), or a whiteout (named `.wh.…`, empty file).
pub fn layer(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        if let Some(dir) = name.strip_suffix('/') {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_mode(0o755);
            h.set_size(0);
            b.append_data(&mut h, dir, &[][..]).unwrap();
        } else if let Some(target) = data.strip_prefix(b"-> ") {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_mode(0o777);
            h.set_size(0);
            b.append_link(&mut h, name, std::str::from_utf8(target).unwrap()).unwrap();
        } else {
            h.set_mode(0o644);
            h.set_size(data.len() as u64);
            b.append_data(&mut h, name, *data).unwrap();
        }
    }
    b.into_inner().unwrap()
}

/// How a layer blob is compressed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Comp {
    Plain,
    Gzip,
    #[cfg(feature = "zstd")]
    Zstd,
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn compress(tar: &[u8], comp: Comp) -> (Vec<u8>, &'static str) {
    match comp {
        Comp::Plain => (tar.to_vec(), "application/vnd.oci.image.layer.v1.tar"),
        Comp::Gzip => (gzip(tar), "application/vnd.oci.image.layer.v1.tar+gzip"),
        #[cfg(feature = "zstd")]
        Comp::Zstd => (zstd::encode_all(tar, 1).unwrap(), "application/vnd.oci.image.layer.v1.tar+zstd"),
    }
}

/// A layer as an image holds it.
#[derive(Clone)]
pub struct Layer {
    pub tar: Vec<u8>,
    pub blob: Vec<u8>,
    pub media_type: String,
}

impl Layer {
    pub fn new(tar: Vec<u8>, comp: Comp) -> Layer {
        let (blob, media_type) = compress(&tar, comp);
        Layer { tar, blob, media_type: media_type.into() }
    }
}

/// A whole image: its blobs and documents, which a test may edit before writing it out
/// (`seal` recomputes the config and manifest from the fields).
#[derive(Clone)]
pub struct Img {
    pub layers: Vec<Layer>,
    pub config: Value,
    pub config_bytes: Vec<u8>,
    pub manifest: Value,
    pub manifest_bytes: Vec<u8>,
}

impl Img {
    /// An image of `layers`, its config with `Cmd` = `cmd` and a few other fields.
    pub fn new(layers: Vec<Layer>, cmd: &[&str]) -> Img {
        let diff_ids: Vec<String> = layers.iter().map(|l| digest(&l.tar)).collect();
        let config = json!({
            "architecture": "amd64", "os": "linux",
            "config": { "Cmd": cmd, "Env": ["PATH=/bin", "A=1"], "WorkingDir": "/work", "User": "1000:1000" },
            "rootfs": { "type": "layers", "diff_ids": diff_ids },
        });
        let mut img = Img { layers, config, config_bytes: vec![], manifest: Value::Null, manifest_bytes: vec![] };
        img.seal();
        img
    }

    /// Recomputes the config's bytes, and the manifest from the layers and config.
    pub fn seal(&mut self) {
        self.config_bytes = serde_json::to_vec(&self.config).unwrap();
        self.manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(&self.config_bytes), "size": self.config_bytes.len() },
            "layers": self.layers.iter().map(|l| json!({ "mediaType": l.media_type, "digest": digest(&l.blob), "size": l.blob.len() })).collect::<Vec<_>>(),
        });
        self.seal_manifest();
    }

    /// Recomputes only the manifest's bytes (after a test edited `manifest`).
    pub fn seal_manifest(&mut self) {
        self.manifest_bytes = serde_json::to_vec(&self.manifest).unwrap();
    }

    pub fn manifest_digest(&self) -> String {
        digest(&self.manifest_bytes)
    }

    /// Every blob by its name in an OCI layout (the layers' under their true digests).
    fn blobs(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = vec![
            (format!("blobs/sha256/{}", hex(&self.manifest_bytes)), self.manifest_bytes.clone()),
            (format!("blobs/sha256/{}", hex(&self.config_bytes)), self.config_bytes.clone()),
        ];
        for l in &self.layers {
            out.push((format!("blobs/sha256/{}", hex(&l.blob)), l.blob.clone()));
        }
        out
    }
}

/// The files of an OCI layout holding `images` (each with its ref name).
pub fn layout_files(images: &[(&Img, &str)]) -> Vec<(String, Vec<u8>)> {
    let manifests: Vec<Value> = images
        .iter()
        .map(|(img, name)| {
            json!({ "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": img.manifest_digest(),
                    "size": img.manifest_bytes.len(), "annotations": { "org.opencontainers.image.ref.name": name } })
        })
        .collect();
    let index = json!({ "schemaVersion": 2, "manifests": manifests });
    let mut files = vec![
        ("oci-layout".to_string(), br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()),
        ("index.json".to_string(), serde_json::to_vec(&index).unwrap()),
    ];
    for (img, _) in images {
        files.extend(img.blobs());
    }
    files
}

/// Writes `files` under `dir`.
pub fn write_dir(dir: &Path, files: &[(String, Vec<u8>)]) {
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

/// One member of an outer tarball: a file, or a symlink to `target`.
pub enum Member {
    File(String, Vec<u8>),
    Symlink(String, String),
}

/// Writes the tarball `path` of `members`, in order.
pub fn write_tar(path: &Path, members: &[Member]) {
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    for m in members {
        let mut h = tar::Header::new_ustar();
        h.set_mtime(0);
        match m {
            Member::File(name, data) => {
                h.set_mode(0o644);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, name, &data[..]).unwrap();
            }
            Member::Symlink(name, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                b.append_link(&mut h, name, target).unwrap();
            }
        }
    }
    b.finish().unwrap();
}

/// An oci-archive of `images`, its blobs first and `index.json` last (so the reader cannot
/// rely on the order).
pub fn oci_archive(path: &Path, images: &[(&Img, &str)]) {
    let mut files = layout_files(images);
    files.rotate_left(2);
    write_tar(path, &files.into_iter().map(|(n, d)| Member::File(n, d)).collect::<Vec<_>>());
}

/// A legacy docker-archive of `img` tagged `tag`: `<diff-id>.tar` files, `<id>/layer.tar`
/// symlinks to them named in `manifest.json`, the config as `<hex>.json`.
pub fn docker_archive(path: &Path, img: &Img, tag: &str) {
    let config_name = format!("{}.json", hex(&img.config_bytes));
    let mut members = vec![Member::File(config_name.clone(), img.config_bytes.clone())];
    let mut names = Vec::new();
    for (i, l) in img.layers.iter().enumerate() {
        let id = hex(format!("layer id {i} {}", hex(&l.tar)).as_bytes());
        members.push(Member::File(format!("{}.tar", hex(&l.tar)), l.blob.clone()));
        members.push(Member::Symlink(format!("{id}/layer.tar"), format!("../{}.tar", hex(&l.tar))));
        names.push(format!("{id}/layer.tar"));
    }
    let manifest = json!([{ "Config": config_name, "RepoTags": [tag], "Layers": names }]);
    members.push(Member::File("manifest.json".into(), serde_json::to_vec(&manifest).unwrap()));
    write_tar(path, &members);
}

/// A docker-archive as Docker 25 writes it: an OCI layout plus `manifest.json` naming
/// `blobs/sha256/<hex>` files.
pub fn docker25_archive(path: &Path, img: &Img, tag: &str) {
    let mut members: Vec<Member> = layout_files(&[(img, tag)]).into_iter().map(|(n, d)| Member::File(n, d)).collect();
    let layers: Vec<String> = img.layers.iter().map(|l| format!("blobs/sha256/{}", hex(&l.blob))).collect();
    let config = format!("blobs/sha256/{}", hex(&img.config_bytes));
    let manifest = json!([{ "Config": config, "RepoTags": [tag], "Layers": layers }]);
    members.push(Member::File("manifest.json".into(), serde_json::to_vec(&manifest).unwrap()));
    write_tar(path, &members);
}

// Layers and stores the image tests share.

pub fn base(comp: Comp) -> Layer {
    let entries: &[(&str, &[u8])] =
        &[("bin/", b""), ("bin/hello", b"hi\n"), ("bin/sh", b"-> hello"), ("etc/", b""), ("etc/hostname", b"box\n")];
    Layer::new(layer(entries), comp)
}

pub fn top(comp: Comp) -> Layer {
    let entries: &[(&str, &[u8])] = &[("etc/", b""), ("etc/.wh.hostname", b""), ("etc/motd", b"welcome\n")];
    Layer::new(layer(entries), comp)
}

pub fn other(comp: Comp) -> Layer {
    Layer::new(layer(&[("usr/", b""), ("usr/share", b"other\n")]), comp)
}

/// How many entries `dir` of the store has.
pub fn count(store: &isobox::ImageStore, dir: &str) -> usize {
    std::fs::read_dir(store.path().join(dir)).unwrap().count()
}

/// (blobs, unpacked layers, temporaries) on disk.
pub fn on_disk(store: &isobox::ImageStore) -> (usize, usize, usize) {
    (count(store, "blobs/sha256"), count(store, "isobox/layers/sha256"), count(store, "isobox/tmp"))
}

pub fn assert_nothing_written(store: &isobox::ImageStore) {
    assert_eq!(on_disk(store), (0, 0, 0));
    assert!(store.images().unwrap().is_empty());
}

pub fn oci_dir(img: &Img, name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_dir(dir.path(), &layout_files(&[(img, name)]));
    dir
}
