//! Overlay roots: layers made with `unpack_layer` from archives written here, stacked under a
//! tmpfs or directory upper. What the sandbox writes, deletes and renames never reaches the
//! layers; whiteouts and opaque directories of higher layers hide lower files; 200 layers
//! mount; a directory upper is removed after the wait unless kept; hardening holds over it.
mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use common::{require_userns, sandbox, sh};
use isobox::{
    unpack_layer, ConfigError, Error, Mount, MountAction, MountPart, OverlayError, OverlayRoot, SetupObject, Step,
    UnpackOptions, Upper,
};

/// An entry of a layer archive: a directory (`name/`), a symlink (`target` set) or a file.
struct E<'a>(&'a str, &'a [u8], Option<&'a str>);

fn f<'a>(name: &'a str, data: &'a [u8]) -> E<'a> {
    E(name, data, None)
}
fn d(name: &str) -> E<'_> {
    E(name, b"", None)
}

/// A layer archive of `entries`, owned by `uid` and `gid`.
fn archive(entries: &[E<'_>], (uid, gid): (u32, u32)) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for E(name, data, link) in entries {
        let mut h = tar::Header::new_gnu();
        let (kind, mode) = match (link, name.ends_with('/')) {
            (Some(_), _) => (tar::EntryType::Symlink, 0o777),
            (None, true) => (tar::EntryType::Directory, 0o755),
            (None, false) => (tar::EntryType::Regular, 0o644),
        };
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        h.set_uid(uid.into());
        h.set_gid(gid.into());
        if let Some(target) = link {
            h.set_link_name(target).unwrap();
        }
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// Layer directories in a base directory the sandbox's root can search.
struct Layers {
    base: tempfile::TempDir,
    dirs: Vec<PathBuf>,
}

impl Layers {
    fn new() -> Layers {
        let base = tempfile::tempdir_in(layer_base().0).unwrap();
        std::fs::set_permissions(base.path(), PermissionsExt::from_mode(0o755)).unwrap();
        Layers { base, dirs: Vec::new() }
    }

    /// Unpacks `entries` as the next layer up; `trusted`: for an overlay without a user
    /// namespace (opaque marks in `trusted.*`, files host root's), else owned by the sandbox's
    /// root on the host (so that, unpacked as root with owners, the sandbox may change them).
    fn add(&mut self, entries: &[E<'_>], trusted: bool) -> &mut Self {
        let dir = self.base.path().join(format!("l{:03}", self.dirs.len()));
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, PermissionsExt::from_mode(0o755)).unwrap();
        let mut options = UnpackOptions::default();
        options.trusted_xattrs = trusted;
        let owner = if trusted { (0, 0) } else { common::sandbox_root_on_host() };
        unpack_layer(&archive(entries, owner)[..], &dir, &options).unwrap();
        self.dirs.push(dir);
        self
    }
}

/// Where layers go, and whether they can carry both whiteouts and `user.*` xattrs (opaque
/// marks for an overlay in a user namespace): the temp directory, or the build's own. A VM
/// whose /tmp is a tmpfs before Linux 6.6 (no user xattrs) and whose build directory is a 9p
/// share (no device nodes) has neither: its layers then hold no user opaque mark.
fn layer_base() -> (PathBuf, bool) {
    static BASE: std::sync::OnceLock<(PathBuf, bool)> = std::sync::OnceLock::new();
    let marks = archive(&[d("o/"), f("o/.wh..wh..opq", b""), f(".wh.gone", b"")], (0, 0));
    let takes_marks = |dir: &Path| {
        let Ok(probe) = tempfile::tempdir_in(dir) else { return false };
        let mut options = UnpackOptions::default();
        options.trusted_xattrs = false;
        unpack_layer(&marks[..], probe.path(), &options).is_ok()
    };
    let candidates = [std::env::temp_dir(), PathBuf::from(env!("CARGO_TARGET_TMPDIR"))];
    BASE.get_or_init(|| match candidates.iter().find(|d| takes_marks(d)) {
        Some(dir) => (dir.clone(), true),
        None => {
            eprintln!("no directory here takes whiteouts and user xattrs: layers without user opaque marks");
            (candidates[0].clone(), false)
        }
    })
    .clone()
}

/// A base layer whose system directories are the host's: `/usr` bound read-only, and the
/// host's top-level links (merged /usr) as links, or mount points to bind.
fn base_entries() -> (Vec<(String, Option<String>)>, Vec<Mount>) {
    let mut entries = vec![("usr/".to_string(), None), ("proc/".to_string(), None)];
    let mut mounts = vec![Mount::bind_ro("/usr", "/usr")];
    for top in ["bin", "sbin", "lib", "lib64"] {
        let host = Path::new("/").join(top);
        match std::fs::read_link(&host) {
            Ok(to) => entries.push((top.to_string(), Some(to.to_str().unwrap().to_string()))),
            Err(_) if host.is_dir() => {
                entries.push((format!("{top}/"), None));
                mounts.push(Mount::bind_ro(&host, &host));
            }
            Err(_) => {}
        }
    }
    (entries, mounts)
}

/// Three layers: a base with the system directories and files; a middle one that changes a
/// file, deletes one (whiteout) and makes a directory opaque; a top one that adds a file.
fn three_layers(trusted: bool) -> (Layers, Vec<Mount>) {
    let (sys, mounts) = base_entries();
    let mut base: Vec<E<'_>> = sys.iter().map(|(n, l)| E(n, b"", l.as_deref())).collect();
    base.extend([
        d("etc/"),
        f("etc/base.txt", b"base\n"),
        f("etc/gone.txt", b"gone\n"),
        d("data/"),
        d("data/old/"),
        f("data/old/a", b"a\n"),
        f("data/keep.txt", b"keep\n"),
        d("opaque/"),
        f("opaque/x", b"x\n"),
        d("mv/"),
        f("mv/src", b"src\n"),
    ]);
    let mut layers = Layers::new();
    layers.add(&base, trusted);
    // Each directory with its entry, owned as the archive says (one the unpacker had to make
    // would be the caller's, host root's for a root caller, which a user namespace does not map).
    let mut middle = vec![d("etc/"), f("etc/base.txt", b"mid\n"), f("etc/.wh.gone.txt", b""), d("opaque/")];
    if trusted || layer_base().1 {
        middle.push(f("opaque/.wh..wh..opq", b""));
    }
    middle.push(f("opaque/y", b"y\n"));
    layers.add(&middle, trusted);
    layers.add(&[f("top.txt", b"top\n")], trusted);
    (layers, mounts)
}

/// Every entry under `dir`: its type, mode, size and contents (files) or target (links).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let what = if meta.is_dir() {
                stack.push(path.clone());
                "dir".to_string()
            } else if meta.file_type().is_symlink() {
                format!("link {:?}", std::fs::read_link(&path).unwrap())
            } else if meta.file_type().is_char_device() {
                format!("char {}", meta.rdev())
            } else {
                format!("file {:?}", std::fs::read(&path).unwrap())
            };
            out.insert(path, format!("{what} {:o} {}", meta.mode(), meta.uid()));
        }
    }
    out
}

const CHANGES: &str = "cat /etc/base.txt; test -e /etc/gone.txt || echo gone-hidden; ls /opaque; cat /top.txt; \
    echo new > /new.txt && rm /data/keep.txt && mv /mv/src /mv/dst && echo more >> /etc/base.txt && echo changed; \
    cat /new.txt /mv/dst /etc/base.txt; ls /data; \
    rm -r /data/old && mkdir /data/old && echo again > /data/old/b && ls /data/old";

/// What `CHANGES` prints; `opaque_mkdir`: a directory made where a lower one was deleted (the
/// upper marks it opaque: in a user namespace a tmpfs upper takes `user.*` xattrs only since
/// Linux 6.6).
/// `opaque_layer`: the middle layer's opaque mark hides the base's `/opaque/x`.
fn changed(opaque_layer: bool, opaque_mkdir: bool) -> String {
    let listing = if opaque_layer { "y" } else { "x\ny" };
    let made = if opaque_mkdir { "b\n" } else { "" };
    format!("mid\ngone-hidden\n{listing}\ntop\nchanged\nnew\nsrc\nmid\nmore\nold\n{made}")
}

#[test]
fn rootless_layers_stack_with_whiteouts_and_opaque_dirs_and_are_never_written() {
    if !require_userns() {
        return;
    }
    let (layers, mounts) = three_layers(false);
    let before: Vec<_> = layers.dirs.iter().map(|d| snapshot(d)).collect();
    let sb = sandbox(|b| {
        b.overlay_root(OverlayRoot::new(&layers.dirs));
        mounts.into_iter().for_each(|m| drop(b.mount(m)));
    });
    let out = common::sh_output(&sb, CHANGES);
    assert_eq!(String::from_utf8_lossy(&out.stdout), changed(layer_base().1, common::kernel_at_least(6, 6)));
    let after: Vec<_> = layers.dirs.iter().map(|d| snapshot(d)).collect();
    assert_eq!(before, after, "the layers are unchanged");
    // A second sandbox starts from the layers again: the first one's writes were its own.
    let again = sh(&sb, "cat /etc/base.txt; test -e /new.txt || echo fresh; ls /data");
    assert_eq!(again, "mid\nfresh\nkeep.txt\nold\n");
}

#[test]
fn without_a_user_namespace_opaque_dirs_use_trusted_xattrs() {
    if !common::require_root() {
        return;
    }
    let (layers, mounts) = three_layers(true);
    let before: Vec<_> = layers.dirs.iter().map(|d| snapshot(d)).collect();
    let mut b = isobox::Sandbox::builder();
    b.namespaces(isobox::Namespaces::MOUNT | isobox::Namespaces::PID).overlay_root(OverlayRoot::new(&layers.dirs));
    mounts.into_iter().for_each(|m| drop(b.mount(m)));
    let sb = b.build().unwrap();
    let mut cmd = common::cmd("/bin/sh", &["-c", CHANGES]);
    cmd.uid(0).gid(0);
    let out = sb.output(&cmd).unwrap();
    assert!(out.report.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), changed(true, true));
    assert_eq!(before, layers.dirs.iter().map(|d| snapshot(d)).collect::<Vec<_>>());
}

/// A small tree for the upper and page-limit tests: the base layer and `n - 1` more, each
/// adding `/layers/<i>` and replacing `/which`.
fn many_layers(n: usize) -> (Layers, Vec<Mount>) {
    let (sys, mounts) = base_entries();
    let base: Vec<E<'_>> = sys.iter().map(|(n, l)| E(n, b"", l.as_deref())).collect();
    let mut layers = Layers::new();
    layers.add(&base, false);
    for i in 1..n {
        let (name, which) = (format!("layers/{i}"), format!("{i}\n"));
        layers.add(&[d("layers/"), f(&name, b""), f("which", which.as_bytes())], false);
    }
    (layers, mounts)
}

fn overlay_sandbox(root: OverlayRoot, mounts: Vec<Mount>) -> isobox::Sandbox {
    sandbox(|b| {
        b.overlay_root(root);
        mounts.into_iter().for_each(|m| drop(b.mount(m)));
    })
}

#[test]
fn rootless_two_hundred_layers_mount_one_by_one_and_in_the_legacy_string() {
    if !require_userns() {
        return;
    }
    let (layers, mounts) = many_layers(200);
    let script = "ls /layers | wc -l; cat /which";
    let sb = overlay_sandbox(OverlayRoot::new(&layers.dirs), mounts.clone());
    assert_eq!(sh(&sb, script), "199\n199\n", "the top-most layer wins");
    // The same through mount(2): absolute paths overflow the page, relative ones fit.
    let legacy = overlay_sandbox(OverlayRoot::new(&layers.dirs).legacy_mount(true), mounts);
    assert_eq!(sh(&legacy, script), "199\n199\n");
}

#[test]
fn rootless_a_directory_upper_is_removed_after_the_wait_unless_kept() {
    if !require_userns() {
        return;
    }
    let (layers, mounts) = many_layers(2);
    let uppers = tempfile::tempdir().unwrap();
    std::fs::set_permissions(uppers.path(), PermissionsExt::from_mode(0o755)).unwrap();
    let upper = Upper::Dir(uppers.path().to_path_buf());
    let script = "echo hi > /made; rm /which; mkdir /d; chmod 0 /d";
    let throwaway = overlay_sandbox(OverlayRoot::new(&layers.dirs).upper(upper.clone()), mounts.clone());
    let mut child = throwaway.spawn(&common::cmd("/bin/sh", &["-c", script])).unwrap();
    let dir = child.upper_dir().expect("a directory upper");
    assert!(dir.starts_with(uppers.path()), "{dir:?}");
    assert!(child.wait().unwrap().success());
    assert_eq!(child.upper_dir(), None);
    assert_eq!(std::fs::read_dir(uppers.path()).unwrap().count(), 0, "removed after the wait");
    let kept = overlay_sandbox(OverlayRoot::new(&layers.dirs).upper(upper).keep_upper(true), mounts);
    let mut child = kept.spawn(&common::cmd("/bin/sh", &["-c", script])).unwrap();
    assert!(child.wait().unwrap().success());
    let dir = child.upper_dir().expect("kept");
    drop(child);
    assert_eq!(std::fs::read(dir.join("made")).unwrap(), b"hi\n");
    let whiteout = std::fs::symlink_metadata(dir.join("which")).unwrap();
    assert!(whiteout.file_type().is_char_device() && whiteout.rdev() == 0, "the deletion is a whiteout");
    assert_eq!(std::fs::read(layers.dirs[1].join("which")).unwrap(), b"1\n", "the layer keeps its file");
}

#[test]
fn rootless_hardening_holds_over_an_overlay_root() {
    if !require_userns() {
        return;
    }
    let (layers, mounts) = many_layers(3);
    let sb = sandbox(|b| {
        b.overlay_root(OverlayRoot::new(&layers.dirs)).readonly_root(true);
        b.mount(Mount::proc("/proc")).mount(Mount::dev("/dev"));
        mounts.into_iter().for_each(|m| drop(b.mount(m)));
    });
    // The root is the overlay, read-only; every other mount is one the sandbox asked for (the
    // staging directory and the upper's tmpfs are gone with the host's root); the procfs masks
    // hold; no capability is left.
    let script = format!(
        "{}t write touch /x; t masked sh -c 'test $(cat /proc/keys /proc/timer_list | wc -c) = 0'; \
         t sysrq sh -c 'echo h > /proc/sysrq-trigger'; grep CapEff /proc/self/status | tr -d '\\t'; \
         grep -c ' / / [^-]* - overlay ' /proc/self/mountinfo; \
         cut -d' ' -f5 /proc/self/mountinfo | grep -v -e '^/$' -e '^/proc' -e '^/dev' -e '^/usr$' | wc -l",
        common::TRY,
    );
    let said = sh(&sb, &script);
    assert_eq!(said, "write failed\nmasked ok\nsysrq failed\nCapEff:0000000000000000\n1\n0\n", "{said}");
}

#[test]
fn rootless_a_layer_gone_since_build_is_named_in_the_error() {
    if !require_userns() {
        return;
    }
    let (layers, mounts) = many_layers(3);
    let sb = overlay_sandbox(OverlayRoot::new(&layers.dirs), mounts);
    std::fs::remove_dir_all(&layers.dirs[1]).unwrap();
    let Err(Error::Setup(e)) = sb.status(&common::cmd("/bin/true", &[])) else { panic!("spawned without a layer") };
    assert_eq!((e.step, e.errno), (Step::Overlay, nix::errno::Errno::ENOENT), "{e}");
    let Some(SetupObject::Mount { part: MountPart::OverlayRoot, action }) = &e.object else { panic!("{e}") };
    assert_eq!(action, &MountAction::OverlayLayer { index: 1, path: layers.dirs[1].clone() }, "{e}");
    assert!(e.to_string().contains("overlay layer #1"), "{e}");
}

#[test]
fn rootless_build_refuses_an_overlay_that_cannot_work() {
    let layers = Layers::new();
    let refused = |tweak: &dyn Fn(&mut isobox::SandboxBuilder)| {
        let mut b = isobox::Sandbox::builder();
        b.namespaces(common::full());
        tweak(&mut b);
        match b.build() {
            Err(Error::Config(ConfigError::Overlay(e))) => e,
            other => panic!("expected an overlay error, got {:?}", other.err()),
        }
    };
    let dir = layers.base.path().to_path_buf();
    let e = refused(&|b| drop(b.rootfs(&dir).overlay_root(OverlayRoot::new([&dir]))));
    assert!(matches!(e, OverlayError::WithRootfs), "{e}");
    let e = refused(&|b| drop(b.overlay_root(OverlayRoot::new([dir.join("missing")]))));
    assert!(matches!(e, OverlayError::Layer { index: 0, .. }), "{e}");
    let e = refused(&|b| drop(b.overlay_root(OverlayRoot::new([&dir]).upper(Upper::Dir(dir.join("x"))))));
    assert!(matches!(e, OverlayError::UpperDir { .. }), "{e}");
}
