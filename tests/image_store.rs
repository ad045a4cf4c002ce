//! The image store: imports of each format and compression, digests and diff-ids checked
//! (a wrong one writes nothing), shared layers written once (counted in the report and on
//! disk), gc, and two importers at once. Images are made by hand (`common/oci.rs`).
#[path = "common/oci.rs"]
mod oci;

use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use isobox::{ImageStore, StoreError};
use oci::{base, oci_dir, on_disk, other, top, Comp, Img};

/// The two-layer image came out whole: config, layer order, files, whiteout.
fn check_image(image: &isobox::Image, img: &Img) {
    assert_eq!(image.manifest_digest().to_string(), img.manifest_digest());
    assert_eq!(image.config().cmd, ["/bin/hello", "x"]);
    assert_eq!(image.config().env, ["PATH=/bin", "A=1"]);
    assert_eq!(
        (image.config().working_dir.as_deref(), image.config().user.as_deref()),
        (Some("/work"), Some("1000:1000"))
    );
    assert!(image.config().entrypoint.is_empty());
    let dirs = image.layer_dirs();
    assert_eq!(dirs.len(), 2);
    assert_eq!(std::fs::read(dirs[0].join("bin/hello")).unwrap(), b"hi\n");
    assert_eq!(std::fs::read_link(dirs[0].join("bin/sh")).unwrap(), Path::new("hello"));
    assert_eq!(std::fs::read(dirs[1].join("etc/motd")).unwrap(), b"welcome\n");
    let wh = std::fs::symlink_metadata(dirs[1].join("etc/hostname")).unwrap();
    assert!(wh.file_type().is_char_device(), "the whiteout is overlay's 0:0 device");
    for (layer, l) in image.layers().iter().zip(&img.layers) {
        assert_eq!(layer.diff_id.to_string(), oci::digest(&l.tar));
        assert_eq!(layer.digest.to_string(), oci::digest(&l.blob));
    }
}

#[test]
fn rootless_an_oci_dir_with_gzip_and_plain_layers_is_imported() {
    let img = Img::new(vec![base(Comp::Gzip), top(Comp::Plain)], &["/bin/hello", "x"]);
    let src = oci_dir(&img, "app:1");
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path()).unwrap();
    let imported = store.import_oci_dir(src.path(), None).unwrap();
    check_image(&imported.image, &img);
    let r = imported.report;
    assert_eq!((r.blobs_written, r.blobs_present, r.layers_unpacked, r.layers_present), (4, 0, 2, 0));
    let blob_bytes =
        img.manifest_bytes.len() + img.config_bytes.len() + img.layers.iter().map(|l| l.blob.len()).sum::<usize>();
    assert_eq!(r.bytes_written, blob_bytes as u64);
    assert_eq!(on_disk(&store), (4, 2, 0));
    // By name, by digest, and from a second handle: the same image.
    check_image(&store.image("app:1").unwrap(), &img);
    check_image(&ImageStore::open(dir.path()).unwrap().image(&img.manifest_digest()).unwrap(), &img);
    let entries = store.images().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].reference.as_deref(), Some("app:1"));
    // Again: nothing written.
    let again = store.import_oci_dir(src.path(), Some("app:1")).unwrap().report;
    assert_eq!((again.blobs_written, again.blobs_present, again.layers_unpacked, again.layers_present), (0, 4, 0, 2));
    assert_eq!(store.images().unwrap().len(), 1);
}

#[test]
fn rootless_oci_and_docker_archives_are_imported_read_in_place() {
    let img = Img::new(vec![base(Comp::Plain), top(Comp::Plain)], &["/bin/hello", "x"]);
    let work = tempfile::tempdir().unwrap();
    let (oci_tar, docker_tar, docker25) =
        (work.path().join("oci.tar"), work.path().join("d.tar"), work.path().join("d25.tar"));
    oci::oci_archive(&oci_tar, &[(&img, "app:1")]);
    oci::docker_archive(&docker_tar, &img, "localhost/app:1");
    let mut gz = img.clone();
    gz.layers = vec![base(Comp::Gzip), top(Comp::Gzip)];
    gz.seal();
    oci::docker25_archive(&docker25, &gz, "localhost/app:gz");
    let store = ImageStore::open(work.path().join("store")).unwrap();
    let a = store.import_oci_archive(&oci_tar, Some("app:1")).unwrap();
    check_image(&a.image, &img);
    assert_eq!(a.image.reference(), Some("app:1"));
    // The same blobs: even the manifest isobox writes for it is the one the layout has.
    let d = store.import_docker_archive(&docker_tar, None).unwrap();
    assert_eq!(d.image.reference(), Some("localhost/app:1"));
    assert_eq!(d.image.config_digest(), a.image.config_digest());
    assert_eq!(d.image.layer_dirs(), a.image.layer_dirs());
    let r = d.report;
    assert_eq!((r.blobs_written, r.blobs_present, r.layers_unpacked, r.layers_present), (0, 4, 0, 2));
    // Docker 25's layout with gzip'd layers: new layer blobs and manifest, the same unpacked layers.
    let g = store.import_docker_archive(&docker25, Some("localhost/app:gz")).unwrap();
    assert_eq!(g.image.layer_dirs(), a.image.layer_dirs());
    assert_eq!((g.report.blobs_written, g.report.layers_unpacked, g.report.layers_present), (3, 0, 2));
    assert_eq!(g.image.layers()[0].media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
    assert_eq!(store.images().unwrap().len(), 3);
    assert!(matches!(store.import_docker_archive(&docker_tar, Some("nope")), Err(StoreError::NoSuchImage { .. })));
}

#[test]
fn rootless_zstd_layers() {
    #[cfg(feature = "zstd")]
    {
        let img = Img::new(vec![base(Comp::Zstd), top(Comp::Zstd)], &["/bin/hello", "x"]);
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::open(dir.path()).unwrap();
        check_image(&store.import_oci_dir(oci_dir(&img, "z").path(), None).unwrap().image, &img);
    }
    #[cfg(not(feature = "zstd"))]
    {
        let mut img = Img::new(vec![base(Comp::Plain)], &["/bin/hello", "x"]);
        img.layers[0].media_type = "application/vnd.oci.image.layer.v1.tar+zstd".into();
        img.seal();
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::open(dir.path()).unwrap();
        let e = store.import_oci_dir(oci_dir(&img, "z").path(), None).unwrap_err();
        assert!(matches!(e, StoreError::MediaType { needs_zstd: true, .. }), "{e}");
        oci::assert_nothing_written(&store);
    }
}

#[test]
fn rootless_a_second_image_sharing_a_layer_writes_only_its_new_ones_and_gc_keeps_what_is_reached() {
    let a = Img::new(vec![base(Comp::Gzip), top(Comp::Gzip)], &["/bin/hello", "x"]);
    let b = Img::new(vec![base(Comp::Gzip), other(Comp::Gzip)], &["/bin/sh"]);
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path()).unwrap();
    store.import_oci_dir(oci_dir(&a, "a").path(), None).unwrap();
    let rb = store.import_oci_dir(oci_dir(&b, "b").path(), None).unwrap().report;
    // b's manifest, config and `other` are new; `base` is there, packed and unpacked.
    assert_eq!((rb.blobs_written, rb.blobs_present, rb.layers_unpacked, rb.layers_present), (3, 1, 1, 1));
    let new_bytes = b.manifest_bytes.len() + b.config_bytes.len() + b.layers[1].blob.len();
    assert_eq!(rb.bytes_written, new_bytes as u64);
    assert_eq!(on_disk(&store), (7, 3, 0));
    // gc with both named: nothing to remove but a stale temporary.
    std::fs::create_dir(dir.path().join("isobox/tmp/import-stale")).unwrap();
    let g = store.gc().unwrap();
    assert_eq!((g.blobs_removed, g.layers_removed, g.temporaries_removed), (0, 0, 1));
    // a removed: its manifest, config and `top` go, `base` stays for b.
    assert!(store.remove("a").unwrap());
    assert!(!store.remove("a").unwrap());
    assert!(matches!(store.image("a"), Err(StoreError::NoSuchImage { .. })));
    let g = store.gc().unwrap();
    assert_eq!((g.blobs_removed, g.layers_removed), (3, 1));
    assert_eq!(g.bytes_removed, (a.manifest_bytes.len() + a.config_bytes.len() + a.layers[1].blob.len()) as u64);
    assert_eq!(on_disk(&store), (4, 2, 0));
    let image_b = store.image("b").unwrap();
    assert!(image_b.layer_dirs().iter().all(|d| d.is_dir()));
    assert_eq!(std::fs::read(image_b.layer_dirs()[1].join("usr/share")).unwrap(), b"other\n");
    // Layers missing from the cache (emptied by hand) are unpacked again on use.
    for d in image_b.layer_dirs() {
        std::fs::remove_dir_all(d).unwrap();
    }
    assert!(store.image("b").unwrap().layer_dirs().iter().all(|d| d.is_dir()));
    store.remove("b").unwrap();
    store.gc().unwrap();
    assert_eq!(on_disk(&store), (0, 0, 0));
}

#[test]
fn rootless_two_stores_importing_at_once_both_succeed() {
    let a = Img::new(vec![base(Comp::Gzip), top(Comp::Gzip)], &["/bin/hello", "x"]);
    let b = Img::new(vec![base(Comp::Gzip), other(Comp::Plain)], &["/bin/sh"]);
    let (src_a, src_b) = (oci_dir(&a, "a"), oci_dir(&b, "b"));
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        std::thread::scope(|s| {
            let mut threads = Vec::new();
            for (i, src) in [&src_a, &src_b, &src_a, &src_b].into_iter().enumerate() {
                let dir = dir.path();
                threads.push(s.spawn(move || {
                    let store = ImageStore::open(dir).unwrap();
                    let image = store.import_oci_dir(src.path(), None).unwrap().image;
                    if i % 2 == 0 {
                        store.gc().unwrap();
                    }
                    image
                }));
            }
            for t in threads {
                assert!(t.join().unwrap().layer_dirs().iter().all(|d| d.is_dir()));
            }
        });
    }
    let store = ImageStore::open(dir.path()).unwrap();
    assert_eq!(on_disk(&store), (7, 3, 0));
    assert_eq!(store.images().unwrap().len(), 2);
    check_image(&store.image("a").unwrap(), &a);
}
