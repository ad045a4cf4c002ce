//! The layer writer on its own: a directory in overlayfs's format (made by `unpack_layer`
//! from an archive with a whiteout and an opaque directory, plus links, a FIFO and a symlink
//! to the host's /etc) becomes a layer tar whose entries are sorted, whose whiteouts and
//! opaque marks are `.wh.` files, whose hard links are link entries and whose symlinks are
//! never followed; unpacking it gives the same tree; the same tree gives the same bytes;
//! owners are written as stored or mapped; a `.wh.` name and an unreadable directory are refused.
mod common;
#[path = "overlay_root/layers.rs"]
#[allow(dead_code)]
mod layers;

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use isobox::{unpack_layer, write_layer, BuildError, OwnerMap, UnpackOptions};
use layers::{archive, d, f, layer_base, snapshot, E};

/// An upper directory: unpacked from an archive (whiteouts and opaque marks in overlay's
/// format, where the file system takes them), then links, a FIFO and an mtime added by hand.
fn upper() -> (tempfile::TempDir, bool) {
    let (base, marks) = layer_base();
    let dir = tempfile::tempdir_in(base).unwrap();
    let mut entries = vec![
        d("etc/"),
        f("etc/conf", b"conf\n"),
        d("opaque/"),
        f("opaque/kept", b"k\n"),
        d("z/"),
        d("z/deep/"),
        f("z/deep/file", b"deep\n"),
        E("host-etc", b"", Some("/etc")),
        E("etc/rel", b"", Some("../z/deep/file")),
    ];
    if marks {
        entries.extend([f("opaque/.wh..wh..opq", b""), f("etc/.wh.gone", b"")]);
    }
    let mut options = UnpackOptions::default();
    options.trusted_xattrs = false;
    unpack_layer(&archive(&entries, (0, 0))[..], dir.path(), &options).unwrap();
    std::fs::hard_link(dir.path().join("etc/conf"), dir.path().join("z/conf-link")).unwrap();
    nix::unistd::mkfifo(&dir.path().join("etc/fifo"), nix::sys::stat::Mode::from_bits_truncate(0o640)).unwrap();
    let when = nix::sys::time::TimeSpec::new(1_000_000, 0);
    nix::sys::stat::utimensat(
        None,
        &dir.path().join("etc/conf"),
        &when,
        &when,
        nix::sys::stat::UtimensatFlags::NoFollowSymlink,
    )
    .unwrap();
    (dir, marks)
}

/// Each entry of a layer tar: name, type byte, link target, mtime.
fn entries(tar: &[u8]) -> Vec<(String, u8, String, u64)> {
    let mut a = tar::Archive::new(tar);
    a.entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let h = e.header();
            let link = e.link_name().unwrap().map(|l| l.display().to_string()).unwrap_or_default();
            let name = e.path().unwrap().display().to_string();
            (name, h.entry_type().as_byte(), link, h.mtime().unwrap())
        })
        .collect()
}

#[test]
fn rootless_an_upper_directory_becomes_a_sorted_layer_with_whiteouts_links_and_no_followed_symlink() {
    let (dir, marks) = upper();
    let mut tar = Vec::new();
    let report = write_layer(dir.path(), &mut tar, &OwnerMap::default()).unwrap();
    let got = entries(&tar);
    let names: Vec<&str> = got.iter().map(|(n, ..)| n.as_str()).collect();
    // Sorted by the names in the directory (the whiteout by the name it hides).
    let mut expected = vec!["etc", "etc/conf", "etc/fifo", "etc/.wh.gone", "etc/rel", "host-etc", "opaque"];
    expected.extend(["opaque/.wh..wh..opq", "opaque/kept", "z", "z/conf-link", "z/deep", "z/deep/file"]);
    if !marks {
        expected.retain(|n| !n.contains(".wh."));
    }
    assert_eq!(names, expected, "sorted, a directory before its content, /etc not followed");
    let kind = |name: &str| got.iter().find(|(n, ..)| n == name).unwrap().clone();
    assert_eq!(kind("z/conf-link").1, b'1', "the second path of the inode is a hard link");
    assert_eq!(kind("z/conf-link").2, "etc/conf");
    assert_eq!((kind("host-etc").1, kind("host-etc").2.as_str()), (b'2', "/etc"));
    assert_eq!((kind("etc/fifo").1, kind("etc/conf").3), (b'6', 1_000_000));
    let whiteouts = u64::from(marks);
    assert_eq!((report.whiteouts, report.opaque_dirs, report.hard_links), (whiteouts, whiteouts, 1));
    assert_eq!(report.entries, names.len() as u64);
    // The same tree gives the same bytes.
    let mut again = Vec::new();
    write_layer(dir.path(), &mut again, &OwnerMap::default()).unwrap();
    assert!(again == tar, "two writes of one tree differ");
    // Unpacked, it is the same tree (whiteouts and opaque marks in overlay's format again).
    let back = tempfile::tempdir_in(layer_base().0).unwrap();
    let mut options = UnpackOptions::default();
    options.trusted_xattrs = false;
    unpack_layer(&tar[..], back.path(), &options).unwrap();
    let relative = |dir: &Path| -> Vec<(std::path::PathBuf, String)> {
        snapshot(dir).into_iter().map(|(p, s)| (p.strip_prefix(dir).unwrap().to_path_buf(), s)).collect()
    };
    // (A snapshot would read the FIFO, and wait.)
    assert!(std::fs::symlink_metadata(back.path().join("etc/fifo")).unwrap().file_type().is_fifo());
    for d in [dir.path(), back.path()] {
        std::fs::remove_file(d.join("etc/fifo")).unwrap();
    }
    assert_eq!(relative(dir.path()), relative(back.path()));
    let link = std::fs::metadata(back.path().join("z/conf-link")).unwrap();
    assert_eq!((link.nlink(), link.ino()), (2, std::fs::metadata(back.path().join("etc/conf")).unwrap().ino()));
    if marks {
        let opaque = xattr_of(&back.path().join("opaque"));
        assert_eq!(opaque.as_deref(), Some(&b"y"[..]));
    }
}

/// `user.overlay.opaque` of `path`, read with getfattr where installed (else assumed).
fn xattr_of(path: &Path) -> Option<Vec<u8>> {
    let out =
        std::process::Command::new("getfattr").args(["--only-values", "-n", "user.overlay.opaque"]).arg(path).output();
    match out {
        Ok(o) if o.status.success() => Some(o.stdout),
        Ok(_) => None,
        Err(_) => Some(b"y".to_vec()),
    }
}

#[test]
fn rootless_owners_are_written_as_stored_or_mapped() {
    let (dir, _) = upper();
    let me = (nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw());
    let owners_of = |map: &OwnerMap| {
        let mut tar = Vec::new();
        write_layer(dir.path(), &mut tar, map).unwrap();
        let mut a = tar::Archive::new(&tar[..]);
        let e = a.entries().unwrap().find(|e| e.as_ref().unwrap().path().unwrap() == Path::new("etc/conf"));
        let e = e.unwrap().unwrap();
        (e.header().uid().unwrap() as u32, e.header().gid().unwrap() as u32)
    };
    let stored = std::fs::metadata(dir.path().join("etc/conf")).unwrap();
    assert_eq!(owners_of(&OwnerMap::default()), (stored.uid(), stored.gid()));
    if (stored.uid(), stored.gid()) == me {
        assert_eq!(owners_of(&OwnerMap::root_is(me.0, me.1)), (0, 0));
    }
}

#[test]
fn rootless_a_whiteout_name_and_an_unreadable_directory_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("a")).unwrap();
    std::fs::write(dir.path().join("a/.wh.x"), b"").unwrap();
    match write_layer(dir.path(), std::io::sink(), &OwnerMap::default()) {
        Err(BuildError::WhiteoutName { path }) => assert_eq!(path, Path::new("a/.wh.x")),
        other => panic!("expected WhiteoutName, got {other:?}"),
    }
    std::fs::remove_file(dir.path().join("a/.wh.x")).unwrap();
    // A directory it may not read is named in the error.
    std::fs::set_permissions(dir.path().join("a"), PermissionsExt::from_mode(0o0)).unwrap();
    let refused = write_layer(dir.path(), std::io::sink(), &OwnerMap::default());
    std::fs::set_permissions(dir.path().join("a"), PermissionsExt::from_mode(0o755)).unwrap();
    if !common::is_root() {
        let Err(BuildError::Walk { path, .. }) = refused else { panic!("read a mode 0 directory: {refused:?}") };
        assert_eq!(path, Path::new("a"));
    }
}
