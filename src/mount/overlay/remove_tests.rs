use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::*;

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A directory outside the tree, with a subdirectory and a file, and their modes.
fn outside(base: &Path) -> (std::path::PathBuf, [u32; 2]) {
    let out = base.join("outside");
    std::fs::create_dir_all(out.join("sub")).unwrap();
    std::fs::write(out.join("sub/f"), b"keep").unwrap();
    chmod(&out.join("sub"), 0o751);
    chmod(&out, 0o755);
    (out, [0o755, 0o751])
}

fn unchanged(out: &Path, modes: [u32; 2]) {
    assert_eq!([mode(out), mode(&out.join("sub"))], modes, "the outside directory's modes");
    assert_eq!(std::fs::read(out.join("sub/f")).unwrap(), b"keep", "the outside directory's file");
}

#[test]
fn a_tree_with_links_out_and_directories_without_permissions_is_removed_alone() {
    let base = tempfile::tempdir().unwrap();
    let (out, modes) = outside(base.path());
    let tree = base.path().join("spawn");
    std::fs::create_dir_all(tree.join("work/work/deep")).unwrap();
    std::fs::create_dir_all(tree.join("upper/a/b")).unwrap();
    std::fs::write(tree.join("work/work/deep/f"), b"x").unwrap();
    std::fs::write(tree.join("upper/a/b/f"), b"x").unwrap();
    for (link, to) in [("upper/dir", &out), ("upper/a/file", &out.join("sub/f")), ("work/work/deep/l", &out)] {
        std::os::unix::fs::symlink(to, tree.join(link)).unwrap();
    }
    for d in ["work/work/deep", "work/work", "upper/a/b", "upper/a"] {
        chmod(&tree.join(d), 0o000);
    }
    chmod(&tree.join("upper"), 0o500);
    let top = std::fs::File::open(base.path()).unwrap();
    remove_tree_at(top.as_fd(), c"spawn").unwrap();
    assert!(std::fs::symlink_metadata(&tree).is_err(), "removed");
    unchanged(&out, modes);
    // A name that is gone, or a file, is fine too.
    remove_tree_at(top.as_fd(), c"spawn").unwrap();
    std::os::unix::fs::symlink(&out, base.path().join("link")).unwrap();
    remove_tree_at(top.as_fd(), c"link").unwrap();
    assert!(std::fs::symlink_metadata(base.path().join("link")).is_err());
    unchanged(&out, modes);
}

/// Swaps `upper/flip` between a directory and a link to `out` (an exchange with `flip2`, so
/// that the name is always there) until `stop`, making them again where the removal took one.
fn flip(stop: &AtomicBool, upper: &Path, out: &Path) {
    use nix::fcntl::{renameat2, RenameFlags};
    let (a, b) = (upper.join("flip"), upper.join("flip2"));
    while !stop.load(Ordering::Relaxed) {
        if renameat2(None, &a, None, &b, RenameFlags::RENAME_EXCHANGE).is_err() {
            let _ = std::fs::create_dir(&a);
            let _ = std::os::unix::fs::symlink(out, &b);
        }
    }
}

#[test]
fn an_entry_flipped_between_a_directory_and_a_link_out_during_the_removal_leaves_the_outside_alone() {
    let base = tempfile::tempdir().unwrap();
    let (out, modes) = outside(base.path());
    for round in 0..20 {
        let tree = base.path().join(format!("spawn{round}"));
        // Many small directories, so the walk takes a while, each with one without permissions.
        for i in 0..50 {
            std::fs::create_dir_all(tree.join(format!("upper/{i}/locked"))).unwrap();
            chmod(&tree.join(format!("upper/{i}/locked")), 0);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let flipper = {
            let (stop, upper, out) = (Arc::clone(&stop), tree.join("upper"), out.clone());
            std::thread::spawn(move || flip(&stop, &upper, &out))
        };
        let top = std::fs::File::open(base.path()).unwrap();
        let name = CString::new(format!("spawn{round}")).unwrap();
        // The flipper may keep the upper from being emptied; what matters is the outside.
        let _ = remove_tree_at(top.as_fd(), &name);
        stop.store(true, Ordering::Relaxed);
        flipper.join().unwrap();
        unchanged(&out, modes);
        remove_tree_at(top.as_fd(), &name).unwrap();
    }
}
