//! What a hostile image cannot do to the store: a tiny gzip'd layer with a name of hundreds
//! of MiB is refused quickly and in little memory (in a layer or an archive's own headers), a
//! descriptor size of u64::MAX is a size mismatch, a new blob is checked against its diff-id
//! even when that layer is cached, the store's limits hold a gzip bomb, a blob and a layer's
//! entries to their bounds, and a source that cannot be read is named as such.
#[path = "common/oci.rs"]
mod oci;

use std::time::{Duration, Instant};

use isobox::{ImageStore, StoreError, StoreLimits, UnpackErrorKind};
use oci::{assert_nothing_written, base, oci_dir, other, Comp, Img, Layer};

/// A gzip stream of `head` and then `len` bytes of `fill`, as gzip members of 1 MiB each
/// (gzip'd once): a few KiB per GiB.
fn gzip_bomb(head: &[u8], fill: u8, len: u64) -> Vec<u8> {
    let mut out = oci::gzip(head);
    let member = oci::gzip(&vec![fill; 1 << 20]);
    for _ in 0..len >> 20 {
        out.extend_from_slice(&member);
    }
    out
}

/// An image of one layer whose blob is `blob` (gzip), its diff-id whatever `tar` says.
fn image_of_blob(blob: Vec<u8>, tar: Vec<u8>) -> Img {
    let layer = Layer { tar, blob, media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into() };
    Img::new(vec![layer], &["/x"])
}

/// The peak resident memory of this process (VmHWM), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

#[test]
fn rootless_a_gzip_layer_with_a_huge_long_name_is_refused_quickly_in_little_memory() {
    let size = 768u64 << 20;
    let mut h = tar::Header::new_gnu();
    h.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"././@LongLink");
    h.set_entry_type(tar::EntryType::GNULongName);
    h.set_size(size);
    h.set_cksum();
    let blob = gzip_bomb(h.as_bytes(), b'a', size);
    assert!(blob.len() < 4 << 20, "{} bytes", blob.len());
    let img = image_of_blob(blob, b"not the layer".to_vec());
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path()).unwrap();
    let started = Instant::now();
    let e = store.import_oci_dir(oci_dir(&img, "bomb").path(), None).unwrap_err();
    assert!(
        matches!(&e, StoreError::Unpack { source, .. } if matches!(source.kind, UnpackErrorKind::HeaderTooLarge { .. })),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(peak_rss() < 512 << 20, "peak RSS {} MiB", peak_rss() >> 20);
    assert!(e.to_string().len() < 4096);
    assert_nothing_written(&store);
}

#[test]
fn rootless_an_archive_whose_own_headers_hold_a_long_name_past_64_kib_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let name = format!("{}\0", "n".repeat(100 << 10));
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::GNULongName);
    h.set_size(name.len() as u64);
    tar.append_data(&mut h, "././@LongLink", name.as_bytes()).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(2);
    tar.append_data(&mut h, "short", &b"{}"[..]).unwrap();
    std::fs::write(work.path().join("a.tar"), tar.into_inner().unwrap()).unwrap();
    let store = ImageStore::open(work.path().join("store")).unwrap();
    for e in [
        store.import_oci_archive(work.path().join("a.tar"), None).unwrap_err(),
        store.import_docker_archive(work.path().join("a.tar"), None).unwrap_err(),
    ] {
        assert!(matches!(e, StoreError::ArchiveHeaderTooLarge { size, .. } if size == name.len() as u64), "{e}");
    }
}

#[test]
fn rootless_an_archive_member_whose_pax_size_is_past_its_header_is_read_in_place() {
    // Go writes a size its header cannot hold as a PAX record, and 0 in the header.
    let img = Img::new(vec![base(Comp::Gzip), oci::top(Comp::Plain)], &["/x"]);
    let layer = format!("blobs/sha256/{}", oci::hex(&img.layers[0].blob));
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in oci::layout_files(&[(&img, "x")]) {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o644);
        h.set_path(&name).unwrap();
        if name == layer {
            let record = format!("size={}\n", data.len());
            let record = format!("{} {record}", record.len() + 3);
            let mut x = tar::Header::new_ustar();
            x.set_entry_type(tar::EntryType::XHeader);
            x.set_path("pax").unwrap();
            x.set_size(record.len() as u64);
            x.set_cksum();
            b.append(&x, record.as_bytes()).unwrap();
            h.set_size(0);
        } else {
            h.set_size(data.len() as u64);
        }
        h.set_cksum();
        b.append(&h, &data[..]).unwrap();
    }
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("a.tar"), b.into_inner().unwrap()).unwrap();
    let store = ImageStore::open(work.path().join("store")).unwrap();
    let imported = store.import_oci_archive(work.path().join("a.tar"), None).unwrap();
    assert_eq!(std::fs::read(imported.image.layer_dirs()[0].join("bin/hello")).unwrap(), b"hi\n");
    assert_eq!(std::fs::read(imported.image.layer_dirs()[1].join("etc/motd")).unwrap(), b"welcome\n");
}

#[test]
fn rootless_a_descriptor_size_of_u64_max_is_a_size_mismatch() {
    let mut img = Img::new(vec![base(Comp::Gzip)], &["/x"]);
    img.manifest["layers"][0]["size"] = u64::MAX.into();
    img.seal_manifest();
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path()).unwrap();
    let e = store.import_oci_dir(oci_dir(&img, "max").path(), None).unwrap_err();
    assert!(matches!(e, StoreError::SizeMismatch { expected: u64::MAX, .. }), "{e}");
    assert_nothing_written(&store);
}

#[test]
fn rootless_a_new_blob_is_checked_against_its_diff_id_even_when_the_layer_is_cached() {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path()).unwrap();
    let a = Img::new(vec![base(Comp::Gzip)], &["/a"]);
    store.import_oci_dir(oci_dir(&a, "a").path(), None).unwrap();
    // Another layer's blob, which the config says has the cached layer's diff-id.
    let (liar, truth) = (other(Comp::Gzip), base(Comp::Gzip));
    let b = image_of_blob(liar.blob.clone(), truth.tar.clone());
    let e = store.import_oci_dir(oci_dir(&b, "b").path(), None).unwrap_err();
    assert!(
        matches!(&e, StoreError::DiffIdMismatch { actual, .. } if actual.to_string() == oci::digest(&liar.tar)),
        "{e}"
    );
    // The same within one import: a second layer whose diff-id is the first's.
    let mut c = Img::new(vec![other(Comp::Plain), other(Comp::Gzip)], &["/c"]);
    c.layers[1] = Layer { tar: c.layers[0].tar.clone(), ..oci::top(Comp::Gzip) };
    c.seal();
    let e = store.import_oci_dir(oci_dir(&c, "c").path(), None).unwrap_err();
    assert!(matches!(&e, StoreError::DiffIdMismatch { .. }), "{e}");
    assert_eq!(store.images().unwrap().len(), 1);
    // A true one (the cached layer, as a plain blob this time) is checked and taken.
    let d = Img::new(vec![base(Comp::Plain)], &["/d"]);
    let r = store.import_oci_dir(oci_dir(&d, "d").path(), None).unwrap().report;
    assert_eq!((r.layers_unpacked, r.layers_present), (0, 1));
}

#[test]
fn rootless_the_store_limits_hold_a_gzip_bomb_a_large_blob_and_many_entries() {
    // A 256 MiB file of zeros in a blob of a few hundred KiB.
    let mut h = tar::Header::new_gnu();
    h.as_gnu_mut().unwrap().name[..4].copy_from_slice(b"zero");
    h.set_mode(0o644);
    h.set_size(256 << 20);
    h.set_uid(0);
    h.set_gid(0);
    h.set_cksum();
    let bomb = image_of_blob(gzip_bomb(h.as_bytes(), 0, 256 << 20), b"unknown".to_vec());
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path()).unwrap().with_limits(StoreLimits::none().layer_bytes(8 << 20));
    let e = store.import_oci_dir(oci_dir(&bomb, "bomb").path(), None).unwrap_err();
    assert!(matches!(e, StoreError::Limit { limit, .. } if limit == 8 << 20), "{e}");
    assert_nothing_written(&store);
    // A blob past max_blob_bytes, refused by its descriptor's size.
    let img = Img::new(vec![base(Comp::Plain)], &["/x"]);
    let small = ImageStore::open(dir.path()).unwrap().with_limits(StoreLimits::none().blob_bytes(2000));
    let e = small.import_oci_dir(oci_dir(&img, "x").path(), None).unwrap_err();
    assert!(
        matches!(&e, StoreError::Limit { entry, limit: 2000, .. } if entry.contains(&oci::hex(&img.layers[0].blob))),
        "{e}"
    );
    // base has 5 entries.
    let few = ImageStore::open(dir.path()).unwrap().with_limits(StoreLimits::none().layer_entries(4));
    let e = few.import_oci_dir(oci_dir(&img, "x").path(), None).unwrap_err();
    assert!(matches!(e, StoreError::Limit { limit: 4, .. }), "{e}");
    assert_nothing_written(&store);
    let enough =
        ImageStore::open(dir.path()).unwrap().with_limits(StoreLimits::none().layer_entries(5).blob_bytes(1 << 20));
    enough.import_oci_dir(oci_dir(&img, "x").path(), None).unwrap();
}

#[test]
fn rootless_a_source_that_cannot_be_read_is_named_as_the_source() {
    // An oci-archive with index.json first, cut inside its layer's data.
    let img = Img::new(vec![base(Comp::Plain)], &["/x"]);
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("cut.tar");
    let files = oci::layout_files(&[(&img, "x")]);
    oci::write_tar(&path, &files.into_iter().map(|(n, d)| oci::Member::File(n, d)).collect::<Vec<_>>());
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::File::options().write(true).open(&path).unwrap().set_len(len - 1024 - 1024).unwrap();
    let store = ImageStore::open(work.path().join("store")).unwrap();
    let e = store.import_oci_archive(&path, None).unwrap_err();
    let layer = format!("blobs/sha256/{}", oci::hex(&img.layers[0].blob));
    assert!(matches!(&e, StoreError::SourceRead { entry, place, .. } if *entry == layer && *place == path), "{e}");
}
