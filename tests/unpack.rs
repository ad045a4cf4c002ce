//! Unpacking layer archives: a well-formed layer comes out as overlayfs expects it, and
//! every malicious archive is refused with the entry named and nothing written outside the
//! layer's directory. The archives are written by hand here, so that names the `tar` crate's
//! builder would refuse (`..`, absolute) can be made.
mod common;

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use isobox::{unpack_layer, UnpackErrorKind, UnpackOptions};

/// One entry: its type byte, name, link target, and contents.
struct E<'a>(u8, &'a str, &'a str, &'a [u8]);

fn file<'a>(name: &'a str, data: &'a [u8]) -> E<'a> {
    E(b'0', name, "", data)
}
fn dir(name: &str) -> E<'_> {
    E(b'5', name, "", b"")
}
fn symlink<'a>(name: &'a str, target: &'a str) -> E<'a> {
    E(b'2', name, target, b"")
}
fn hardlink<'a>(name: &'a str, target: &'a str) -> E<'a> {
    E(b'1', name, target, b"")
}

/// A tar stream of `entries`, names written into the header as given.
fn tar(entries: &[E<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for E(kind, name, link, data) in entries {
        let mut h = tar::Header::new_gnu();
        let gnu = h.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_entry_type(tar::EntryType::new(*kind));
        h.set_mode(if *kind == b'5' { 0o755 } else { 0o644 });
        h.set_size(data.len() as u64);
        if matches!(kind, b'3' | b'4') {
            h.set_device_major(1).unwrap(); // /dev/null's numbers
            h.set_device_minor(3).unwrap();
        }
        h.set_uid(0);
        h.set_gid(0);
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// A layer directory inside a base directory that must stay as it is.
struct Place {
    base: tempfile::TempDir,
}

impl Place {
    fn new() -> Place {
        let base = tempfile::tempdir().unwrap();
        std::fs::create_dir(base.path().join("layer")).unwrap();
        std::fs::write(base.path().join("outside"), b"keep").unwrap();
        Place { base }
    }
    fn layer(&self) -> PathBuf {
        self.base.path().join("layer")
    }
    /// The base holds only the layer and the untouched `outside` file.
    fn assert_untouched(&self) {
        let mut names: Vec<String> = std::fs::read_dir(self.base.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["layer", "outside"]);
        assert_eq!(std::fs::read(self.base.path().join("outside")).unwrap(), b"keep");
    }
}

fn refused(entries: &[E<'_>]) -> (Place, isobox::UnpackError) {
    let place = Place::new();
    let err = unpack_layer(&tar(entries)[..], &place.layer(), &UnpackOptions::default()).unwrap_err();
    place.assert_untouched();
    (place, err)
}

#[test]
fn rootless_a_layer_comes_out_with_its_files_links_and_whiteouts() {
    let place = Place::new();
    let entries = [
        dir("etc/"),
        file("etc/motd", b"hello\n"),
        file("./usr/bin/tool", b"#!/bin/sh\n"),
        symlink("bin", "usr/bin"),
        hardlink("etc/motd.again", "etc/motd"),
        file("keep", b"mine"),
        E(b'0', "etc/.wh.gone", "", b""),
        E(b'0', ".wh.keep", "", b""),
        dir("opaque/"),
        E(b'0', "opaque/.wh..wh..opq", "", b""),
        E(b'6', "fifo", "", b""),
        E(b'3', "dev-null", "", b""),
    ];
    let report = unpack_layer(&tar(&entries)[..], &place.layer(), &UnpackOptions::default()).unwrap();
    let l = place.layer();
    assert_eq!(std::fs::read(l.join("etc/motd")).unwrap(), b"hello\n");
    assert_eq!(std::fs::read(l.join("usr/bin/tool")).unwrap(), b"#!/bin/sh\n");
    assert_eq!(std::fs::read_link(l.join("bin")).unwrap(), Path::new("usr/bin"));
    let (a, b) = (std::fs::metadata(l.join("etc/motd")).unwrap(), std::fs::metadata(l.join("etc/motd.again")).unwrap());
    assert_eq!((a.ino(), a.nlink()), (b.ino(), 2), "a hard link");
    let gone = std::fs::symlink_metadata(l.join("etc/gone")).unwrap();
    assert!(gone.file_type().is_char_device() && gone.rdev() == 0, "a whiteout is a 0:0 character device");
    assert_eq!(std::fs::read(l.join("keep")).unwrap(), b"mine", "a whiteout hides lower layers, not its own");
    let xattr = if common::is_root() { "trusted.overlay.opaque" } else { "user.overlay.opaque" };
    let read = "import os, sys; print(os.getxattr(sys.argv[1], sys.argv[2]).decode(), end='')";
    let out =
        std::process::Command::new("python3").args(["-c", read]).arg(l.join("opaque")).arg(xattr).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "y", "{xattr}: {}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::symlink_metadata(l.join("fifo")).unwrap().file_type().is_fifo());
    assert!(std::fs::symlink_metadata(l.join("dev-null")).is_err(), "devices are skipped by default");
    assert_eq!((report.whiteouts, report.devices_skipped, report.bytes), (2, 1, 20));
    place.assert_untouched();
}

#[test]
fn rootless_parent_and_absolute_names_are_refused() {
    let (_, err) = refused(&[file("../outside", b"pwned")]);
    assert!(matches!(err.kind, UnpackErrorKind::ParentDir) && err.entry == Path::new("../outside"), "{err}");
    let (_, err) = refused(&[file("a/../../outside", b"pwned")]);
    assert!(matches!(err.kind, UnpackErrorKind::ParentDir), "{err}");
    let target = format!("/tmp/isobox-unpack-{}-absolute", std::process::id());
    let (_, err) = refused(&[file(&target, b"pwned")]);
    assert!(matches!(err.kind, UnpackErrorKind::Absolute), "{err}");
    assert!(!Path::new(&target).exists());
}

#[test]
fn rootless_a_file_through_a_symlink_is_refused() {
    let outside = format!("/tmp/isobox-unpack-{}-through", std::process::id());
    std::fs::create_dir_all(&outside).unwrap();
    for (link, through) in [(outside.as_str(), "a/pwned"), ("../", "a/outside"), (".", "a/pwned")] {
        let (_, err) = refused(&[symlink("a", link), file(through, b"pwned")]);
        assert!(matches!(err.kind, UnpackErrorKind::ThroughSymlink) && err.entry == Path::new(through), "{err}");
    }
    // A symlink made deeper, and a directory of the path replaced by one.
    let (_, err) = refused(&[dir("d/"), symlink("d/e", "/tmp"), file("d/e/f/pwned", b"x")]);
    assert!(matches!(err.kind, UnpackErrorKind::ThroughSymlink), "{err}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0, "nothing written through the link");
    std::fs::remove_dir(&outside).unwrap();
}

#[test]
fn rootless_hard_links_reach_only_earlier_files_of_the_layer() {
    for target in ["../outside", "/etc/passwd", "missing", "d"] {
        let (_, err) = refused(&[dir("d/"), hardlink("h", target)]);
        assert!(matches!(&err.kind, UnpackErrorKind::HardlinkTarget { target: t } if t == Path::new(target)), "{err}");
    }
    let (_, err) = refused(&[symlink("s", "/etc"), hardlink("h", "s/passwd")]);
    assert!(matches!(err.kind, UnpackErrorKind::HardlinkTarget { .. }), "{err}");
    let (_, err) = refused(&[symlink("s", "/etc/passwd"), hardlink("h", "s")]);
    assert!(matches!(err.kind, UnpackErrorKind::HardlinkTarget { .. }), "a link to a symlink: {err}");
}

#[test]
fn rootless_a_file_replacing_a_directory_and_a_truncated_stream_are_refused() {
    let (_, err) = refused(&[dir("x/"), file("x/inside", b"1"), file("x", b"a file over it")]);
    assert!(matches!(err.kind, UnpackErrorKind::ReplacesDirectory) && err.entry == Path::new("x"), "{err}");
    let (_, err) = refused(&[dir("x/"), symlink("x", "/tmp")]);
    assert!(matches!(err.kind, UnpackErrorKind::ReplacesDirectory), "{err}");
    let whole = tar(&[file("big", &[7u8; 4096]), file("next", b"n")]);
    let place = Place::new();
    let err = unpack_layer(&whole[..2048], &place.layer(), &UnpackOptions::default()).unwrap_err();
    assert!(matches!(err.kind, UnpackErrorKind::Archive(_)) && err.entry == Path::new("big"), "{err}");
    place.assert_untouched();
    // A later file replaces an earlier one, as in any tar.
    let place = Place::new();
    unpack_layer(&tar(&[file("f", b"old"), file("f", b"new")])[..], &place.layer(), &UnpackOptions::default()).unwrap();
    assert_eq!(std::fs::read(place.layer().join("f")).unwrap(), b"new");
}

#[test]
fn devices_and_owners_as_root() {
    if !common::require_root() {
        return;
    }
    let place = Place::new();
    let mut entries = vec![E(b'3', "null", "", b"")];
    entries.push(file("owned", b"x"));
    let mut archive = tar(&entries);
    // uid/gid 1000 on the second entry: rewrite its header fields and checksum.
    let mut h = tar::Header::from_byte_slice(&archive[512..1024]).clone();
    h.set_uid(1000);
    h.set_gid(1000);
    h.set_mode(0o4755);
    h.set_cksum();
    archive[512..1024].copy_from_slice(h.as_bytes());
    let mut options = UnpackOptions::default();
    options.devices = true;
    unpack_layer(&archive[..], &place.layer(), &options).unwrap();
    let null = std::fs::symlink_metadata(place.layer().join("null")).unwrap();
    assert!(null.file_type().is_char_device());
    let owned = std::fs::metadata(place.layer().join("owned")).unwrap();
    assert_eq!((owned.uid(), owned.gid(), owned.permissions().mode() & 0o7777), (1000, 1000, 0o4755));
}

/// The base's `outside` file: its content, mode and owner.
fn outside_state(place: &Place) -> (Vec<u8>, u32, u32) {
    let path = place.base.path().join("outside");
    let meta = std::fs::metadata(&path).unwrap();
    (std::fs::read(&path).unwrap(), meta.permissions().mode(), meta.uid())
}

#[test]
fn rootless_an_entry_of_the_same_name_as_a_symlink_replaces_the_link_not_its_target() {
    for options in [UnpackOptions::default(), {
        let mut o = UnpackOptions::default();
        o.owners = common::is_root();
        o
    }] {
        for (link, entry) in [
            ("../outside", file("a", b"pwned")),
            ("../outside", dir("a/")),
            ("../outside", E(b'6', "a", "", b"")),
            ("../outside", hardlink("a", "f")),
            ("/proc/self/cwd", file("a", b"pwned")),
        ] {
            let place = Place::new();
            let before = outside_state(&place);
            let archive = tar(&[file("f", b"inside"), symlink("a", link), entry]);
            unpack_layer(&archive[..], &place.layer(), &options).unwrap();
            assert!(!std::fs::symlink_metadata(place.layer().join("a")).unwrap().file_type().is_symlink());
            assert_eq!(outside_state(&place), before, "the link's target was touched");
            place.assert_untouched();
        }
    }
}

#[test]
fn rootless_whiteouts_and_opaque_marks_through_a_symlink_are_refused() {
    for marker in ["s/.wh.passwd", "s/.wh..wh..opq"] {
        let (_, err) = refused(&[symlink("s", "/etc"), E(b'0', marker, "", b"")]);
        assert!(matches!(err.kind, UnpackErrorKind::ThroughSymlink) && err.entry == Path::new(marker), "{err}");
    }
}

#[test]
fn rootless_long_names_are_checked_like_short_ones() {
    // A GNU long-name entry, then the entry it names.
    let long = format!("{}/../../outside\0", "d".repeat(120));
    let (_, err) = refused(&[E(b'L', "././@LongLink", "", long.as_bytes()), file("short", b"pwned")]);
    assert!(matches!(err.kind, UnpackErrorKind::ParentDir), "{err}");
}

#[test]
fn rootless_modes_setuid_read_only_directories_and_the_root_entry() {
    let place = Place::new();
    let mut options = UnpackOptions::default();
    options.owners = false;
    let mut archive = tar(&[dir("./"), dir("ro/"), dir("ro/sub/"), file("ro/sub/f", b"x"), file("suid", b"s")]);
    // ro/ and ro/sub/ read-only, suid setuid.
    for (at, mode) in [(512, 0o555), (1024, 0o555), (2560, 0o4755)] {
        let mut h = tar::Header::from_byte_slice(&archive[at..at + 512]).clone();
        h.set_mode(mode);
        h.set_cksum();
        archive[at..at + 512].copy_from_slice(h.as_bytes());
    }
    unpack_layer(&archive[..], &place.layer(), &options).unwrap();
    let mode = |p: &str| std::fs::symlink_metadata(place.layer().join(p)).unwrap().permissions().mode() & 0o7777;
    assert_eq!((mode("ro"), mode("ro/sub")), (0o555, 0o555), "read-only, and filled");
    assert_eq!(std::fs::read(place.layer().join("ro/sub/f")).unwrap(), b"x");
    assert_eq!(mode("suid"), 0o755, "setuid dropped without owners");
    for d in ["ro/sub", "ro"] {
        std::fs::set_permissions(place.layer().join(d), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn rootless_a_stream_cut_at_a_block_boundary_or_empty_is_refused() {
    let whole = tar(&[file("big", &[7u8; 4096]), file("next", b"n")]);
    for cut in [512 + 4096, 0] {
        let place = Place::new();
        let err = unpack_layer(&whole[..cut], &place.layer(), &UnpackOptions::default()).unwrap_err();
        assert!(matches!(err.kind, UnpackErrorKind::Archive(_)), "cut at {cut}: {err}");
        place.assert_untouched();
    }
}
