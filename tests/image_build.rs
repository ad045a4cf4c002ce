//! Build: a sandbox runs over an image of the store with a kept directory upper, adds, changes
//! and deletes files and replaces a directory's content; its upper directory is committed as
//! a new image, which a second sandbox sees with exactly those changes; the same upper gives
//! the same digests; skopeo and umoci read the new image; a refused upper publishes nothing.
mod common;
#[path = "overlay_root/layers.rs"]
#[allow(dead_code)]
mod layers;
#[path = "common/oci.rs"]
mod oci;

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use isobox::{BuildError, CommitOptions, Image, ImageStore, Mount, OverlayRoot, Upper};
use layers::{archive, base_entries, d, f, layer_base, E};

/// A store holding `base`: the host's system directories (bound from the host) and a few
/// files, owned by the sandbox's root on the host (so that it may change them).
struct Fixture {
    _work: tempfile::TempDir,
    store: ImageStore,
    base: Image,
    mounts: Vec<Mount>,
    uppers: PathBuf,
}

fn fixture() -> Fixture {
    fixture_for(false)
}

/// `trusted`: for sandboxes without a user namespace (root's overlay, `trusted.` xattrs).
fn fixture_for(trusted: bool) -> Fixture {
    let work = tempfile::tempdir_in(layer_base().0).unwrap();
    open(work.path());
    let (sys, mounts) = base_entries();
    let mut entries: Vec<E<'_>> = sys.iter().map(|(n, l)| E(n, b"", l.as_deref())).collect();
    entries.extend([
        d("etc/"),
        f("etc/keep", b"keep\n"),
        f("etc/change", b"old\n"),
        f("etc/gone", b"gone\n"),
        d("d/"),
        f("d/old", b"1\n"),
        d("d/sub/"),
        f("d/sub/older", b"2\n"),
    ]);
    let layer = oci::Layer::new(
        archive(&entries, if trusted { (0, 0) } else { common::sandbox_root_on_host() }),
        oci::Comp::Gzip,
    );
    let img = oci::Img::new(vec![layer], &["/bin/sh"]);
    let src = oci::oci_dir(&img, "base");
    // The sandboxes have a user namespace: their overlay reads `user.overlay.opaque` (userxattr),
    // also for a root caller, whose store would mark opaque directories `trusted.` by default.
    let mut unpack = isobox::UnpackOptions::default();
    unpack.trusted_xattrs = trusted;
    let store = ImageStore::open(work.path().join("store")).unwrap().with_unpack_options(unpack);
    let base = store.import_oci_dir(src.path(), None).unwrap().image;
    let uppers = work.path().join("uppers");
    std::fs::create_dir(&uppers).unwrap();
    open(&uppers);
    Fixture { _work: work, store, base, mounts, uppers }
}

/// Mode 0755: the sandbox's root (nobody, for a root caller) searches its way to the layers.
fn open(dir: &Path) {
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

/// Whether a directory made where a lower one was deleted is marked opaque here: an upper
/// that takes `user.*` xattrs (see `layer_base`).
fn opaque_works() -> bool {
    layer_base().1
}

const CHANGES: &str = "echo new > /etc/new && echo more >> /etc/change && rm /etc/gone && \
    ln /etc/new /etc/new-link && ln -s new /etc/new-sym && mkdir -p /deep/a && echo x > /deep/a/b";
const REPLACE: &str = " && rm -r /d && mkdir /d && echo fresh > /d/fresh";

/// Runs `script` over `image` with a kept upper in `f.uppers`; the upper directory.
fn run_kept(f: &Fixture, image: &Image, script: &str) -> PathBuf {
    let root = OverlayRoot::new(image.layer_dirs()).upper(Upper::Dir(f.uppers.clone())).keep_upper(true);
    let sb = common::sandbox(|b| {
        b.overlay_root(root);
        for m in f.mounts.clone() {
            b.mount(m);
        }
    });
    let mut child = sb.spawn(&common::cmd("/bin/sh", &["-c", script])).unwrap();
    assert!(child.wait().unwrap().success(), "{script}");
    child.upper_dir().expect("a kept upper directory")
}

fn sh_over(f: &Fixture, image: &Image, script: &str) -> String {
    let sb = common::sandbox(|b| {
        b.overlay_root(OverlayRoot::new(image.layer_dirs()));
        for m in f.mounts.clone() {
            b.mount(m);
        }
    });
    common::sh(&sb, script)
}

const LOOK: &str = "cat /etc/keep /etc/change /etc/new /etc/new-link; readlink /etc/new-sym; \
    test -e /etc/gone || echo gone; stat -c %h /etc/new; ls /d; cat /deep/a/b";

#[test]
fn rootless_a_committed_upper_is_a_new_image_with_exactly_the_changes() {
    if !common::require_userns() {
        return;
    }
    let f = fixture();
    let script = if opaque_works() { format!("{CHANGES}{REPLACE}") } else { CHANGES.to_string() };
    let upper = run_kept(&f, &f.base, &script);
    let options = CommitOptions::new("built:1").cmd(["/bin/cat", "/etc/new"]).env("A", "2").created_by(&*script);
    let built = f.store.commit(&f.base, &upper, &options).unwrap();
    assert_eq!(built.reference(), Some("built:1"));
    assert_eq!(built.layers().len(), 2);
    assert_eq!(built.layers()[0], f.base.layers()[0], "the base's layer is shared");
    assert_eq!(built.config().cmd, ["/bin/cat", "/etc/new"]);
    assert_eq!(built.config().env, ["PATH=/bin", "A=2"]);
    assert_eq!(built.config().working_dir, f.base.config().working_dir, "unchanged fields are the base's");
    // What the store gives by name is the image commit returned.
    let named = f.store.image("built:1").unwrap();
    assert_eq!((named.manifest_digest(), named.layer_dirs()), (built.manifest_digest(), built.layer_dirs()));
    assert_eq!(layer_entries(&f.store, &built), expected_entries(), "exactly the changes");
    let listing = if opaque_works() { "fresh" } else { "old\nsub" };
    let expected = format!("keep\nold\nmore\nnew\nnew\nnew\ngone\n2\n{listing}\nx\n");
    assert_eq!(sh_over(&f, &built, LOOK), expected);
    // The base is as it was.
    assert_eq!(sh_over(&f, &f.base, "cat /etc/change /etc/gone; ls /d"), "old\ngone\nold\nsub\n");
    // The same upper gives the same layer and, without a creation time, the same image.
    let again = f.store.commit(&f.base, &upper, &options.clone().compression(isobox::LayerCompression::Gzip)).unwrap();
    assert_eq!((again.manifest_digest(), &again.layers()[1]), (built.manifest_digest(), &built.layers()[1]));
    let dated =
        f.store.commit(&f.base, &upper, &CommitOptions::new("dated").created(std::time::SystemTime::now())).unwrap();
    assert_eq!(dated.layers()[1].diff_id, built.layers()[1].diff_id);
    assert_ne!(dated.config_digest(), built.config_digest());
    // A commit over the commit: layers stack.
    let upper2 = run_kept(&f, &built, "rm /etc/new-link && echo two > /etc/keep");
    let second = f.store.commit(&built, &upper2, &CommitOptions::new("built:2")).unwrap();
    assert_eq!(second.layers().len(), 3);
    assert_eq!(
        sh_over(&f, &second, "cat /etc/keep /etc/new; test -e /etc/new-link || echo unlinked"),
        "two\nnew\nunlinked\n"
    );
    for u in [upper, upper2] {
        remove_upper(&u);
    }
}

/// The names in the top layer's blob of `image`, in order.
fn layer_entries(store: &ImageStore, image: &Image) -> Vec<String> {
    let top = image.layers().last().unwrap();
    let blob = std::fs::read(store.path().join("blobs/sha256").join(top.digest.hex())).unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&blob[..]));
    tar.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect()
}

fn expected_entries() -> Vec<&'static str> {
    let mut names = vec![];
    if opaque_works() {
        names.extend(["d", "d/.wh..wh..opq", "d/fresh"]);
    }
    names.extend(["deep", "deep/a", "deep/a/b", "etc", "etc/change", "etc/.wh.gone", "etc/new", "etc/new-link"]);
    names.push("etc/new-sym");
    names
}

/// Removes a kept spawn directory (`<pid>-<n>/{upper,work}`; overlayfs's `work/work` is mode 0).
fn remove_upper(upper: &Path) {
    let spawn = upper.parent().unwrap();
    let _ = Process::new("chmod").args(["-R", "u+rwx"]).arg(spawn).status();
    std::fs::remove_dir_all(spawn).unwrap();
}

#[test]
fn rootless_a_refused_upper_publishes_nothing() {
    if !common::require_userns() {
        return;
    }
    let f = fixture();
    let before = oci::on_disk(&f.store);
    let upper = run_kept(&f, &f.base, "echo trick > /etc/.wh.keep");
    let refused = f.store.commit(&f.base, &upper, &CommitOptions::new("trick"));
    let Err(BuildError::WhiteoutName { path }) = refused else { panic!("committed a .wh. file: {refused:?}") };
    assert_eq!(path, Path::new("etc/.wh.keep"));
    assert_eq!(oci::on_disk(&f.store), before, "no blob, layer or temporary left");
    assert!(f.store.image("trick").is_err());
    // A base from another store is refused, naming the missing blob.
    let other = ImageStore::open(f.uppers.join("other")).unwrap();
    let missing = other.commit(&f.base, &upper, &CommitOptions::new("x"));
    assert!(matches!(missing, Err(BuildError::Store(isobox::StoreError::Missing { .. }))), "{missing:?}");
    remove_upper(&upper);
}

#[test]
fn without_a_user_namespace_trusted_opaque_marks_are_committed() {
    if !common::require_root() {
        return;
    }
    let f = fixture_for(true);
    let root = OverlayRoot::new(f.base.layer_dirs()).upper(Upper::Dir(f.uppers.clone())).keep_upper(true);
    let mut b = isobox::Sandbox::builder();
    b.namespaces(isobox::Namespaces::MOUNT | isobox::Namespaces::PID).overlay_root(root);
    for m in f.mounts.clone() {
        b.mount(m);
    }
    let sb = b.build().unwrap();
    let mut cmd = common::cmd("/bin/sh", &["-c", &format!("{CHANGES}{REPLACE}")]);
    cmd.uid(0).gid(0);
    let mut child = sb.spawn(&cmd).unwrap();
    assert!(child.wait().unwrap().success());
    let upper = child.upper_dir().unwrap();
    let built = f.store.commit(&f.base, &upper, &CommitOptions::new("root")).unwrap();
    assert!(layer_entries(&f.store, &built).contains(&"d/.wh..wh..opq".to_string()));
    let mut b = isobox::Sandbox::builder();
    b.namespaces(isobox::Namespaces::MOUNT | isobox::Namespaces::PID)
        .overlay_root(OverlayRoot::new(built.layer_dirs()));
    for m in f.mounts.clone() {
        b.mount(m);
    }
    let mut cmd = common::cmd("/bin/sh", &["-c", "ls /d; stat -c %u /etc/new"]);
    cmd.uid(0).gid(0);
    let out = b.build().unwrap().output(&cmd).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "fresh\n0\n");
    remove_upper(&upper);
}

fn have(tool: &str) -> bool {
    let found = Process::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    common::require(found, &format!("{tool} is not installed (apt-get install {tool})"))
}

fn run(program: &str, args: &[&str]) {
    let out = Process::new(program).args(args).output().unwrap();
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn rootless_skopeo_and_umoci_read_a_committed_image() {
    if !common::require_userns() || !have("skopeo") || !have("umoci") {
        return;
    }
    let f = fixture();
    let script = if opaque_works() { format!("{CHANGES}{REPLACE}") } else { CHANGES.to_string() };
    let upper = run_kept(&f, &f.base, &script);
    f.store.commit(&f.base, &upper, &CommitOptions::new("built")).unwrap();
    remove_upper(&upper);
    let (store, other) = (f.store.path().to_str().unwrap(), f.uppers.join("copy"));
    // skopeo checks every blob's digest and size as it copies.
    let to = format!("oci:{}:built", other.to_str().unwrap());
    run("skopeo", &["--insecure-policy", "copy", "--quiet", &format!("oci:{store}:built"), &to]);
    let bundle = f.uppers.join("bundle");
    let rootless: &[&str] = if common::is_root() { &[] } else { &["--rootless"] };
    let image_ref = format!("{}:built", other.to_str().unwrap());
    run("umoci", &[&["unpack"], rootless, &["--image", &image_ref, bundle.to_str().unwrap()]].concat());
    let rootfs = bundle.join("rootfs");
    assert_eq!(std::fs::read(rootfs.join("etc/new")).unwrap(), b"new\n");
    assert_eq!(std::fs::read(rootfs.join("etc/change")).unwrap(), b"old\nmore\n");
    assert!(!rootfs.join("etc/gone").exists(), "umoci applied the whiteout");
    assert!(!rootfs.join("etc/.wh.gone").exists());
    if opaque_works() {
        let mut listing: Vec<_> =
            std::fs::read_dir(rootfs.join("d")).unwrap().map(|e| e.unwrap().file_name()).collect();
        listing.sort();
        assert_eq!(listing, ["fresh"], "umoci applied the opaque mark");
    }
    let _ = Process::new("chmod").args(["-R", "u+rwx"]).arg(&bundle).status();
}

/// Any directory in overlay's format commits (no sandbox needed), plain or zstd'd.
#[test]
fn rootless_a_plain_directory_commits_uncompressed_and_with_zstd() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("added"), b"plain\n").unwrap();
    let kinds = [
        (isobox::LayerCompression::None, "application/vnd.oci.image.layer.v1.tar"),
        #[cfg(feature = "zstd")]
        (isobox::LayerCompression::Zstd, "application/vnd.oci.image.layer.v1.tar+zstd"),
    ];
    let mut diff_ids = Vec::new();
    for (compression, media_type) in kinds {
        let options = CommitOptions::new("plain").compression(compression);
        let image = f.store.commit(&f.base, dir.path(), &options).unwrap();
        let top = image.layers().last().unwrap();
        assert_eq!(top.media_type, media_type);
        assert_eq!(std::fs::read(image.layer_dirs()[1].join("added")).unwrap(), b"plain\n");
        // The cache was made from the blob: a fresh handle reads the image back, checking it.
        assert_eq!(ImageStore::open(f.store.path()).unwrap().image("plain").unwrap().layers(), image.layers());
        diff_ids.push(top.diff_id.clone());
    }
    assert!(diff_ids.windows(2).all(|w| w[0] == w[1]), "one tar whatever the compression");
}
