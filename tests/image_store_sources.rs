//! An OCI layout directory is read only through regular files beneath it: a blob that is a
//! symlink (to a file outside, to /dev/zero), a FIFO (which would hang the import with the
//! store locked), or a path through a symlinked directory is refused by name. And a gc that
//! fails partway leaves no partial layer for a later import to take as whole.
mod common;
#[path = "common/oci.rs"]
mod oci;

use std::path::Path;
use std::time::Duration;

use isobox::{ImageStore, StoreError};
use oci::{assert_nothing_written, base, oci_dir, top, Comp, Img};

/// The import of `src` into a fresh store, in a thread, failing the test if it hangs.
fn import_within(src: &Path, secs: u64) -> (Result<isobox::Imported, StoreError>, ImageStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path()).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let (s, src) = (store.clone(), src.to_owned());
    std::thread::spawn(move || tx.send(s.import_oci_dir(src, None)).unwrap());
    let result = rx.recv_timeout(Duration::from_secs(secs)).expect("the import hangs");
    (result, store, dir)
}

#[test]
fn rootless_symlinks_fifos_and_paths_through_symlinks_in_a_layout_are_refused() {
    let img = Img::new(vec![base(Comp::Gzip), top(Comp::Plain)], &["/bin/hello"]);
    let layer = format!("blobs/sha256/{}", oci::hex(&img.layers[0].blob));
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("blob"), &img.layers[0].blob).unwrap();
    type Edit<'a> = Box<dyn Fn(&Path) + 'a>;
    let cases: [(&str, Edit); 5] = [
        // The right bytes, but outside the layout.
        (
            layer.as_str(),
            Box::new(|src| std::os::unix::fs::symlink(outside.path().join("blob"), src.join(&layer)).unwrap()),
        ),
        (layer.as_str(), Box::new(|src| std::os::unix::fs::symlink("/dev/zero", src.join(&layer)).unwrap())),
        (
            layer.as_str(),
            Box::new(|src| nix::unistd::mkfifo(&src.join(&layer), nix::sys::stat::Mode::S_IRWXU).unwrap()),
        ),
        (
            "index.json",
            Box::new(|src| nix::unistd::mkfifo(&src.join("index.json"), nix::sys::stat::Mode::S_IRWXU).unwrap()),
        ),
        // blobs/ a symlink to a copy of itself elsewhere.
        ("index.json", Box::new(|_| {})),
    ];
    for (i, (name, edit)) in cases.iter().enumerate() {
        let src = oci_dir(&img, "x");
        if i == 4 {
            let copy = outside.path().join("blobs");
            std::fs::rename(src.path().join("blobs"), &copy).unwrap();
            std::os::unix::fs::symlink(&copy, src.path().join("blobs")).unwrap();
        } else {
            std::fs::remove_file(src.path().join(name)).unwrap();
            edit(src.path());
        }
        let (result, store, _dir) = import_within(src.path(), 10);
        let e = result.unwrap_err();
        let named = if i == 4 { None } else { Some(*name) };
        assert!(
            matches!(&e, StoreError::NotAFile { entry, .. } if named.map_or(true, |n| entry == n)),
            "case {i}: {e}"
        );
        assert!(!e.to_string().contains(&img.layers[0].blob.len().to_string()), "case {i}: {e}");
        assert_nothing_written(&store);
    }
}

/// Makes `path` immutable (or not): what `chattr +i` does. Whether it worked.
fn immutable(path: &Path, on: bool) -> bool {
    let flag = if on { "+i" } else { "-i" };
    std::process::Command::new("chattr").arg(flag).arg(path).status().is_ok_and(|s| s.success())
}

/// Clears the immutable flag on drop, so that the temporary directory can go.
struct Mutable(std::path::PathBuf);

impl Drop for Mutable {
    fn drop(&mut self) {
        immutable(&self.0, false);
    }
}

#[test]
fn a_gc_that_fails_partway_leaves_no_partial_layer_for_an_import_to_reuse() {
    if !common::require_root() {
        return;
    }
    // A layer of many files, one of which gc cannot remove (EPERM).
    let names: Vec<String> = (0..40).map(|i| format!("d/f{i:02}")).collect();
    let mut entries: Vec<(&str, &[u8])> = vec![("d/", b"")];
    entries.extend(names.iter().map(|n| (n.as_str(), &b"data\n"[..])));
    let img = Img::new(vec![oci::Layer::new(oci::layer(&entries), Comp::Gzip)], &["/x"]);
    let src = oci_dir(&img, "x");
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path()).unwrap();
    let layer_dir = store.import_oci_dir(src.path(), None).unwrap().image.layer_dirs()[0].clone();
    store.remove("x").unwrap();
    let stuck = layer_dir.join("d/f20");
    if !common::require(immutable(&stuck, true), "chattr +i does not work here") {
        return;
    }
    let mut guard = Mutable(stuck);
    let e = store.gc().unwrap_err();
    assert!(matches!(&e, StoreError::Io { .. }), "{e}");
    assert!(!layer_dir.exists(), "gc left the layer in place, partly removed");
    // The import unpacks the layer again, whole.
    let imported = store.import_oci_dir(src.path(), None).unwrap();
    assert_eq!((imported.report.layers_unpacked, imported.report.layers_present), (1, 0));
    for n in &names {
        assert_eq!(std::fs::read(layer_dir.join(n)).unwrap(), b"data\n", "{n}");
    }
    // What gc could not remove is a temporary, which the next gc removes.
    let leftover = std::fs::read_dir(dir.path().join("isobox/tmp")).unwrap().next().unwrap().unwrap().path();
    immutable(&guard.0, false);
    guard.0 = leftover.join("d/f20");
    immutable(&guard.0, false);
    let report = store.gc().unwrap();
    assert_eq!((report.temporaries_removed, report.layers_removed), (1, 0));
    assert_eq!(oci::on_disk(&store), (3, 1, 0));
}
