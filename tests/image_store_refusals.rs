//! What the image store refuses, and that a refusal writes nothing: a blob whose digest or
//! size is not its descriptor's, a layer whose diff-id is not its config's, foreign and
//! unknown media types, an ambiguous or missing name; and gc, which removes nothing when a
//! manifest it must read is gone.
#[path = "common/oci.rs"]
mod oci;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use isobox::{ImageStore, StoreError};
use oci::{assert_nothing_written, base, oci_dir, on_disk, top, Comp, Img, Layer};

/// Imports `img` into a fresh store and returns the error and the store.
fn refused(img: &Img, edit: impl FnOnce(&Path)) -> (StoreError, ImageStore, tempfile::TempDir) {
    let src = oci_dir(img, "bad");
    edit(src.path());
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path()).unwrap();
    let e = store.import_oci_dir(src.path(), None).unwrap_err();
    (e, store, dir)
}

#[test]
fn rootless_a_wrong_digest_size_or_diff_id_is_refused_and_nothing_is_written() {
    let img = Img::new(vec![base(Comp::Gzip), top(Comp::Plain)], &["/bin/hello", "x"]);
    // The second layer's blob altered (one byte of a file's contents).
    let top_name = format!("blobs/sha256/{}", oci::hex(&img.layers[1].blob));
    let (e, store, _d) = refused(&img, |src| {
        let path = src.join(&top_name);
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.windows(7).position(|w| w == b"welcome").unwrap();
        bytes[at] = b'W';
        std::fs::write(path, bytes).unwrap();
    });
    assert!(matches!(&e, StoreError::DigestMismatch { entry, .. } if *entry == top_name), "{e}");
    assert_nothing_written(&store);
    // A descriptor's size one byte short.
    let mut short = img.clone();
    short.manifest["layers"][0]["size"] = (img.layers[0].blob.len() - 1).into();
    short.seal_manifest();
    let (e, store, _d) = refused(&short, |_| {});
    assert!(
        matches!(e, StoreError::SizeMismatch { expected, .. } if expected == img.layers[0].blob.len() as u64 - 1),
        "{e}"
    );
    assert_nothing_written(&store);
    // A config whose diff-id for the (gzip'd) first layer is another layer's.
    let mut wrong = img.clone();
    wrong.config["rootfs"]["diff_ids"][0] = oci::digest(&img.layers[1].tar).into();
    wrong.seal();
    let (e, store, _d) = refused(&wrong, |_| {});
    assert!(
        matches!(&e, StoreError::DiffIdMismatch { expected, .. } if expected.to_string() == oci::digest(&img.layers[1].tar)),
        "{e}"
    );
    assert_nothing_written(&store);
    // The index's descriptor of the manifest with a wrong digest.
    let (e, store, _d) = refused(&img, |src| {
        let index = std::fs::read_to_string(src.join("index.json")).unwrap();
        std::fs::write(src.join("index.json"), index.replace(&img.manifest_digest(), &oci::digest(b"other"))).unwrap();
    });
    assert!(matches!(e, StoreError::Missing { .. } | StoreError::DigestMismatch { .. }), "{e}");
    assert_nothing_written(&store);
}

#[test]
fn rootless_a_docker_archive_with_a_wrong_diff_id_or_config_name_writes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let mut img = Img::new(vec![base(Comp::Plain), top(Comp::Plain)], &["/bin/hello", "x"]);
    img.config["rootfs"]["diff_ids"][1] = oci::digest(b"not the layer").into();
    img.seal();
    oci::docker_archive(&work.path().join("d.tar"), &img, "t");
    let store = ImageStore::open(work.path().join("store")).unwrap();
    let e = store.import_docker_archive(work.path().join("d.tar"), None).unwrap_err();
    assert!(matches!(&e, StoreError::DiffIdMismatch { entry, .. } if entry.ends_with("/layer.tar")), "{e}");
    assert_nothing_written(&store);
}

#[test]
fn rootless_foreign_layers_and_unknown_media_types_are_refused() {
    for media_type in ["application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "application/x-unknown"] {
        let mut img = Img::new(vec![base(Comp::Gzip)], &["/bin/hello", "x"]);
        img.layers[0].media_type = media_type.into();
        img.seal();
        let (e, store, _d) = refused(&img, |_| {});
        assert!(matches!(&e, StoreError::MediaType { media_type: m, needs_zstd: false, .. } if m == media_type), "{e}");
        assert_nothing_written(&store);
    }
}

#[test]
fn rootless_an_unnamed_import_from_a_layout_of_several_images_or_a_missing_name_is_refused() {
    let (a, b) = (Img::new(vec![base(Comp::Plain)], &["a"]), Img::new(vec![top(Comp::Plain)], &["b"]));
    let src = tempfile::tempdir().unwrap();
    oci::write_dir(src.path(), &oci::layout_files(&[(&a, "a"), (&b, "b")]));
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path()).unwrap();
    let e = store.import_oci_dir(src.path(), None).unwrap_err();
    assert!(matches!(e, StoreError::Ambiguous { count: 2, .. }), "{e}");
    let e = store.import_oci_dir(src.path(), Some("c")).unwrap_err();
    assert!(matches!(&e, StoreError::NoSuchImage { reference, .. } if reference == "c"), "{e}");
    assert_nothing_written(&store);
    // By its manifest digest, it takes the layout's name for it.
    let imported = store.import_oci_dir(src.path(), Some(&b.manifest_digest())).unwrap();
    assert_eq!(imported.image.reference(), Some("b"));
    assert!(matches!(store.image("a"), Err(StoreError::NoSuchImage { .. })));
}

#[test]
fn rootless_gc_removes_nothing_when_a_manifest_is_missing_and_read_only_layers_are_removed() {
    // A layer with a read-only directory, as rootless unpacking leaves it (0555).
    let mut tar = tar::Builder::new(Vec::new());
    for (name, mode, data) in [("ro", 0o555, &b""[..]), ("ro/file", 0o444, &b"x\n"[..])] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(if data.is_empty() { tar::EntryType::Directory } else { tar::EntryType::Regular });
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(data.len() as u64);
        tar.append_data(&mut h, name, data).unwrap();
    }
    let ro = Layer::new(tar.into_inner().unwrap(), Comp::Gzip);
    let (a, b) = (Img::new(vec![ro], &["a"]), Img::new(vec![base(Comp::Gzip)], &["b"]));
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path()).unwrap();
    let layer = store.import_oci_dir(oci_dir(&a, "a").path(), None).unwrap().image.layer_dirs()[0].clone();
    assert_eq!(std::fs::metadata(layer.join("ro")).unwrap().permissions().mode() & 0o777, 0o555);
    store.import_oci_dir(oci_dir(&b, "b").path(), None).unwrap();
    // b's manifest gone from blobs/: gc cannot tell what b holds, so it removes nothing.
    store.remove("a").unwrap();
    let manifest = dir.path().join(format!("blobs/sha256/{}", oci::hex(&b.manifest_bytes)));
    let saved = std::fs::read(&manifest).unwrap();
    std::fs::remove_file(&manifest).unwrap();
    let e = store.gc().unwrap_err();
    assert!(matches!(&e, StoreError::Missing { entry, .. } if entry.ends_with(&oci::hex(&b.manifest_bytes))), "{e}");
    assert_eq!(on_disk(&store), (5, 2, 0));
    std::fs::write(&manifest, saved).unwrap();
    let g = store.gc().unwrap();
    assert_eq!((g.blobs_removed, g.layers_removed), (3, 1));
    assert!(!layer.exists());
    assert_eq!(on_disk(&store), (3, 1, 0));
}
