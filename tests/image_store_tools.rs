//! The store is an OCI image layout other tools read and write: skopeo copies out of it and
//! into it, umoci lists and unpacks from it, and isobox imports the docker-archive and
//! oci-archive skopeo writes. Each test skips with a printed reason when skopeo or umoci is
//! missing (`.ci/setup-host` installs them; a failure under ISOBOX_REQUIRE_PRIVILEGES=1).
mod common;
#[path = "common/oci.rs"]
mod oci;

use std::path::Path;
use std::process::Command;

use isobox::ImageStore;
use oci::{Comp, Img, Layer};

fn have(tool: &str) -> bool {
    let found = Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    common::require(found, &format!("{tool} is not installed (apt-get install {tool})"))
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn skopeo_copy(from: &str, to: &str) {
    run("skopeo", &["--insecure-policy", "copy", "--quiet", from, to]);
}

/// A two-layer image with a busybox userland (when Debian's busybox-static is there) and a
/// whiteout.
fn image() -> Img {
    let busybox = std::fs::read("/bin/busybox").unwrap_or_else(|_| b"#!/bin/sh\n".to_vec());
    let base = oci::layer(&[
        ("bin/", b""),
        ("bin/busybox", &busybox),
        ("bin/sh", b"-> busybox"),
        ("etc/", b""),
        ("etc/issue", b"x\n"),
    ]);
    let top = oci::layer(&[("etc/", b""), ("etc/.wh.issue", b""), ("etc/motd", b"hello\n")]);
    Img::new(vec![Layer::new(base, Comp::Gzip), Layer::new(top, Comp::Gzip)], &["/bin/sh"])
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn rootless_skopeo_and_umoci_read_a_store_isobox_wrote() {
    if !have("skopeo") || !have("umoci") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let (src, store_dir, out) = (work.path().join("src"), work.path().join("store"), work.path().join("out"));
    let img = image();
    oci::write_dir(&src, &oci::layout_files(&[(&img, "app")]));
    let store = ImageStore::open(&store_dir).unwrap();
    store.import_oci_dir(&src, None).unwrap();
    // skopeo checks every blob's digest as it copies.
    skopeo_copy(&format!("oci:{}:app", path(&store_dir)), &format!("oci:{}:copy", path(&out)));
    let raw = run("skopeo", &["inspect", "--raw", &format!("oci:{}:copy", path(&out))]);
    assert_eq!(oci::digest(raw.as_bytes()), img.manifest_digest());
    assert_eq!(run("umoci", &["ls", "--layout", path(&store_dir)]).trim(), "app");
    let bundle = work.path().join("bundle");
    let rootless: &[&str] = if nix::unistd::geteuid().is_root() { &[] } else { &["--rootless"] };
    let image_ref = format!("{}:app", path(&store_dir));
    run("umoci", &[&["unpack"], rootless, &["--image", &image_ref, path(&bundle)]].concat());
    assert_eq!(std::fs::read(bundle.join("rootfs/etc/motd")).unwrap(), b"hello\n");
    assert!(!bundle.join("rootfs/etc/issue").exists(), "umoci applied the whiteout");
}

#[test]
fn rootless_isobox_reads_what_skopeo_wrote() {
    if !have("skopeo") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let (src, store_dir) = (work.path().join("src"), work.path().join("store"));
    let img = image();
    oci::write_dir(&src, &oci::layout_files(&[(&img, "app")]));
    let store = ImageStore::open(&store_dir).unwrap();
    // skopeo writes into the store's layout; the layers are unpacked on first use.
    skopeo_copy(&format!("oci:{}:app", path(&src)), &format!("oci:{}:fromskopeo", path(&store_dir)));
    let image = store.image("fromskopeo").unwrap();
    assert_eq!(image.manifest_digest().to_string(), img.manifest_digest());
    let top = &image.layer_dirs()[1];
    assert_eq!(std::fs::read(top.join("etc/motd")).unwrap(), b"hello\n");
    // The archives skopeo writes: a docker-archive (uncompressed layers, as docker save) and an oci-archive.
    let (docker, oci_tar) = (work.path().join("d.tar"), work.path().join("o.tar"));
    skopeo_copy(&format!("oci:{}:app", path(&src)), &format!("docker-archive:{}:localhost/app:1", path(&docker)));
    skopeo_copy(&format!("oci:{}:app", path(&src)), &format!("oci-archive:{}:app", path(&oci_tar)));
    let fresh = ImageStore::open(work.path().join("fresh")).unwrap();
    let d = fresh.import_docker_archive(&docker, None).unwrap();
    assert_eq!(d.image.reference(), Some("localhost/app:1"));
    assert_eq!(d.image.config().cmd, ["/bin/sh"]);
    let o = fresh.import_oci_archive(&oci_tar, Some("app")).unwrap();
    // The same diff-ids whatever the compression: the layers are unpacked once.
    assert_eq!(o.image.layer_dirs(), d.image.layer_dirs());
    assert_eq!((o.report.layers_unpacked, o.report.layers_present), (0, 2));
    assert_eq!(std::fs::read(o.image.layer_dirs()[0].join("etc/issue")).unwrap(), b"x\n");
}
