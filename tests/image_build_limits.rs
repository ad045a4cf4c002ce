//! What a commit trusts of an upper directory: the store's limits hold it (a sparse file of
//! 1 GiB past a 64 MiB layer limit is refused before it is read, too many files too, and
//! nothing is left in the store), and only the store's xattr namespace marks opaque
//! directories (in a `trusted.` overlay, `user.overlay.opaque` is the sandbox's own xattr and
//! hides nothing).
mod common;
#[path = "overlay_root/layers.rs"]
#[allow(dead_code)]
mod layers;
#[path = "common/oci.rs"]
mod oci;

use std::path::Path;
use std::time::{Duration, Instant};

use isobox::{
    unpack_layer, write_layer, write_layer_with, BuildError, CommitOptions, Image, ImageStore, LayerOptions, OwnerMap,
    StoreLimits, UnpackOptions,
};
use layers::{archive, d, f, layer_base};

/// A store (unpacking with `trusted` xattrs) holding a one-layer base image.
fn store_with_base(dir: &Path, trusted: bool) -> (ImageStore, Image) {
    let img = oci::Img::new(vec![oci::base(oci::Comp::Gzip)], &["/bin/sh"]);
    let src = oci::oci_dir(&img, "base");
    let mut unpack = UnpackOptions::default();
    unpack.trusted_xattrs = trusted;
    let store = ImageStore::open(dir.join("store")).unwrap().with_unpack_options(unpack);
    let base = store.import_oci_dir(src.path(), None).unwrap().image;
    (store, base)
}

#[test]
fn rootless_a_sparse_file_or_too_many_files_past_the_store_limits_are_refused_leaving_nothing() {
    let work = tempfile::tempdir().unwrap();
    let (store, base) = store_with_base(work.path(), false);
    let store = store.with_limits(StoreLimits::none().layer_bytes(64 << 20).layer_entries(8));
    let before = oci::on_disk(&store);
    let upper = work.path().join("upper");
    std::fs::create_dir(&upper).unwrap();
    std::fs::write(upper.join("small"), b"small\n").unwrap();
    // Within the limits: committed.
    let fine = store.commit(&base, &upper, &CommitOptions::new("fine")).unwrap();
    assert_eq!(std::fs::read(fine.layer_dirs()[1].join("small")).unwrap(), b"small\n");
    store.remove("fine").unwrap();
    store.gc().unwrap();
    assert_eq!(oci::on_disk(&store), before);

    // `truncate -s 1G big`: no block on disk, 1 GiB to read.
    std::fs::File::create(upper.join("big")).unwrap().set_len(1 << 30).unwrap();
    let start = Instant::now();
    let refused = store.commit(&base, &upper, &CommitOptions::new("big"));
    let took = start.elapsed();
    let Err(BuildError::Limit { path, what, limit }) = refused else { panic!("committed 1 GiB: {refused:?}") };
    assert_eq!((path.as_path(), what, limit), (Path::new("big"), "bytes of an uncompressed layer", 64 << 20));
    assert!(took < Duration::from_secs(2), "refused only after {took:?}: the file was read");
    assert_eq!(oci::on_disk(&store), before, "no blob, layer or temporary left");
    assert!(store.image("big").is_err());
    std::fs::remove_file(upper.join("big")).unwrap();

    // Eight files in one directory (ten names in all): refused while it is listed.
    std::fs::create_dir(upper.join("many")).unwrap();
    for i in 0..8 {
        std::fs::write(upper.join(format!("many/{i}")), b"").unwrap();
    }
    let refused = store.commit(&base, &upper, &CommitOptions::new("many"));
    let Err(BuildError::Limit { what, limit, .. }) = refused else { panic!("committed 10 entries: {refused:?}") };
    assert_eq!((what, limit), ("entries in a layer", 8));
    assert_eq!(oci::on_disk(&store), before, "no blob, layer or temporary left");
    // The same limits on the layer writer alone.
    let options = LayerOptions::new().limits(StoreLimits::none().layer_entries(8));
    assert!(matches!(write_layer_with(&upper, std::io::sink(), &options), Err(BuildError::Limit { .. })));
    let options = LayerOptions::new().limits(StoreLimits::none().layer_entries(10));
    assert_eq!(write_layer_with(&upper, std::io::sink(), &options).unwrap().entries, 10);
}

/// The names of the layer tar `tar`.
fn names(tar: &[u8]) -> Vec<String> {
    let mut a = tar::Archive::new(tar);
    a.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect()
}

#[test]
fn rootless_a_user_opaque_xattr_is_no_mark_for_a_trusted_overlay() {
    let (base_dir, marks) = layer_base();
    if !marks {
        // Not a privilege: a file system feature (tmpfs before Linux 6.6, as in the VM, has no
        // user xattrs). The host's and the rootless runs have it.
        eprintln!("skipped: no directory here takes user xattrs");
        return;
    }
    // `d` carries `user.overlay.opaque=y`: what a sandbox of a `trusted.` overlay can set.
    let upper = tempfile::tempdir_in(&base_dir).unwrap();
    let mut user = UnpackOptions::default();
    user.trusted_xattrs = false;
    unpack_layer(&archive(&[d("d/"), f("d/.wh..wh..opq", b""), f("d/x", b"x\n")], (0, 0))[..], upper.path(), &user)
        .unwrap();
    let layer = |options: &LayerOptions| {
        let mut tar = Vec::new();
        write_layer_with(upper.path(), &mut tar, options).unwrap();
        names(&tar)
    };
    let opaque = ["d", "d/.wh..wh..opq", "d/x"];
    assert_eq!(layer(&LayerOptions::new().trusted_xattrs(false)), opaque, "a mark for a userxattr overlay");
    assert_eq!(layer(&LayerOptions::new().trusted_xattrs(true)), ["d", "d/x"], "a plain xattr for a trusted one");
    let mut tar = Vec::new();
    write_layer(upper.path(), &mut tar, &OwnerMap::default()).unwrap();
    assert_eq!(names(&tar), opaque, "write_layer reads both namespaces");

    // A store of `trusted.` marks commits it as no mark; one of `user.` marks as one.
    let work = tempfile::tempdir_in(&base_dir).unwrap();
    for (trusted, expected) in [(true, &["d", "d/x"][..]), (false, &opaque[..])] {
        let (store, base) = store_with_base(&work.path().join(trusted.to_string()), trusted);
        let image =
            store.commit(&base, upper.path(), &CommitOptions::new("c").compression(isobox::LayerCompression::None));
        let top = image.unwrap().layers().last().unwrap().digest.hex().to_owned();
        let blob = std::fs::read(store.path().join("blobs/sha256").join(top)).unwrap();
        assert_eq!(names(&blob), expected, "a store of trusted={trusted} xattrs");
    }
}
