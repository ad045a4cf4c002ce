//! containerd (Debian's 1.6, a private daemon: see `common/containerd.rs`) reads and writes
//! what the store holds. An image made here (busybox, a whiteout, an opaque directory, gzip'd
//! and plain layers) is imported into a store; the store's layout, as an oci-archive, is
//! imported by `ctr images import` under the same manifest digest and unpacked by containerd
//! (which checks every layer's diff-id against the config); `ctr images export` writes it
//! back out, and a fresh store imports that (as an oci-archive and as a docker-archive, both
//! in the one file) and runs it. Root only (containerd needs it; skipped with a printed
//! reason otherwise, a failure under ISOBOX_REQUIRE_PRIVILEGES=1 when containerd is missing).
#[allow(dead_code)]
#[path = "image_run/busybox.rs"]
mod busybox;
mod common;
#[path = "common/containerd.rs"]
mod containerd;
#[allow(dead_code)]
#[path = "overlay_root/layers.rs"]
mod layers;
#[path = "common/oci.rs"]
mod oci;

use std::path::Path;

use busybox::{config, require_busybox, takes_opaque_marks, userns_options, Store};
use containerd::Containerd;
use isobox::{Image, Mount};
use oci::{Comp, Img, Layer};

const BASE_NAME: &str = "localhost/isobox/bb";
const NAME: &str = "localhost/isobox/bb:1";

/// busybox's three layers, the base and the top gzip'd, the middle plain.
fn image(opaque: bool) -> Img {
    let layers = vec![
        Layer::new(busybox::base(), Comp::Gzip),
        Layer::new(busybox::middle(opaque), Comp::Plain),
        Layer::new(busybox::top(), Comp::Gzip),
    ];
    let mut img = Img::new(layers, &[]);
    img.config["config"] = config();
    img.seal();
    img
}

/// The store's OCI layout as an oci-archive: `oci-layout`, `index.json` and `blobs/`, without
/// isobox's own `isobox/`.
fn layout_archive(store: &Path, out: &Path) {
    let mut b = tar::Builder::new(std::fs::File::create(out).unwrap());
    b.mode(tar::HeaderMode::Deterministic);
    for file in ["oci-layout", "index.json"] {
        b.append_path_with_name(store.join(file), file).unwrap();
    }
    b.append_dir_all("blobs", store.join("blobs")).unwrap();
    b.finish().unwrap();
}

/// The chain id of the top of `diff_ids` (the key containerd's snapshot of them has).
fn chain_id(diff_ids: &[String]) -> String {
    let mut ids = diff_ids.iter();
    let first = ids.next().unwrap().clone();
    ids.fold(first, |chain, id| oci::digest(format!("{chain} {id}").as_bytes()))
}

/// The digest `ctr images ls` shows for `name`.
fn listed_digest(ctd: &Containerd, name: &str) -> Option<String> {
    let ls = ctd.ctr(&["images", "ls"]);
    // REF TYPE DIGEST SIZE PLATFORMS LABELS
    ls.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.first() == Some(&name))?
        .get(2)
        .map(|d| d.to_string())
}

/// What the image's command prints in a sandbox, and a look at the files its layers left.
fn run(image: &Image) -> String {
    let sb = common::sandbox(|b| {
        b.image(image).mount(Mount::proc("/proc"));
    });
    let out = sb.output(&sb.image_command().unwrap()).unwrap();
    assert!(out.report.success(), "{:?}: {}", out.report, String::from_utf8_lossy(&out.stderr));
    let files = common::sh(&sb, "cat /etc/motd /work/top.txt; echo $(ls /data /opaque)");
    String::from_utf8(out.stdout).unwrap() + &files
}

#[test]
fn root_containerd_imports_the_stores_layout_and_the_store_imports_and_runs_its_export() {
    let Some(ctd) = Containerd::start() else { return };
    if !require_busybox() {
        return;
    }
    let opaque = takes_opaque_marks();
    let img = image(opaque);
    let store = Store::new(userns_options());
    let ours = store.add(&img, NAME);
    let expected = run(&ours);
    let listing = if opaque { "/data: keep.txt /opaque: y" } else { "/data: keep.txt /opaque: x y" };
    assert_eq!(expected, format!("A=from-image B=also\n/work\n0\n0\nmid\ntop\n{listing}\n"));

    // (a) containerd reads ours: the same manifest, unpacked (diff-ids checked) as our layers say.
    let work = tempfile::tempdir().unwrap();
    let archive = work.path().join("layout.tar");
    layout_archive(store.store.path(), &archive);
    let archive = archive.to_str().unwrap();
    ctd.ctr(&["images", "import", "--base-name", BASE_NAME, "--snapshotter", ctd.snapshotter(), archive]);
    assert_eq!(listed_digest(&ctd, NAME).as_deref(), Some(ours.manifest_digest().to_string().as_str()));
    let diff_ids: Vec<String> = img.layers.iter().map(|l| oci::digest(&l.tar)).collect();
    let view = ctd.native_view("isobox-check", &chain_id(&diff_ids));
    assert_eq!(std::fs::read(view.join("etc/motd")).unwrap(), b"mid\n");
    assert_eq!(std::fs::read(view.join("work/top.txt")).unwrap(), b"top\n");
    assert!(view.join("bin/busybox").is_file() && !view.join("data/gone.txt").exists(), "whiteout applied");
    assert_eq!(view.join("opaque/x").exists(), !opaque, "opaque directory applied");

    // (b) containerd writes, we read: its export is an oci-archive with Docker's manifest.json.
    let out = work.path().join("export.tar");
    ctd.ctr(&["images", "export", out.to_str().unwrap(), NAME]);
    let back = Store::new(userns_options());
    let oci_import = back.store.import_oci_archive(&out, None).unwrap();
    assert_eq!(oci_import.image.manifest_digest(), ours.manifest_digest());
    assert_eq!(oci_import.image.config_digest(), ours.config_digest());
    assert_eq!(run(&oci_import.image), expected);
    let docker = back.store.import_docker_archive(&out, Some(NAME)).unwrap();
    assert_eq!(docker.image.reference(), Some(NAME));
    assert_eq!(docker.image.config_digest(), ours.config_digest());
    assert_eq!(docker.image.layer_dirs(), oci_import.image.layer_dirs());

    // Nothing of containerd is left: its process, mounts and directory.
    let (pid, dir) = (ctd.pid().unwrap(), ctd.dir().to_owned());
    drop(ctd);
    assert!(common::is_gone(pid), "containerd {pid} still runs");
    assert!(!dir.exists(), "{} is left", dir.display());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
    assert!(!mounts.contains(dir.to_str().unwrap()), "mounts left under {}:\n{mounts}", dir.display());
}
