//! Overlay roots: layers made with `unpack_layer` from archives written here, stacked under a
//! tmpfs or directory upper. What the sandbox writes, deletes and renames never reaches the
//! layers; whiteouts and opaque directories of higher layers hide lower files; 200 layers
//! mount; a directory upper is removed after the wait unless kept (safely: `upper`); hardening
//! holds over it.
mod common;
#[path = "overlay_root/layers.rs"]
mod layers;
#[path = "overlay_root/upper.rs"]
mod upper;

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

use common::{require_userns, sandbox, sh};
use isobox::{ConfigError, Error, Mount, MountAction, MountPart, OverlayError, OverlayRoot, SetupObject, Step, Upper};
use layers::{base_entries, d, f, layer_base, snapshot, Layers, E};

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
        for m in mounts {
            b.mount(m);
        }
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
    for m in mounts {
        b.mount(m);
    }
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
        for m in mounts {
            b.mount(m);
        }
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
        for m in mounts {
            b.mount(m);
        }
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
    let e = refused(&|b| {
        b.rootfs(&dir).overlay_root(OverlayRoot::new([&dir]));
    });
    assert!(matches!(e, OverlayError::WithRootfs), "{e}");
    let e = refused(&|b| {
        b.overlay_root(OverlayRoot::new([dir.join("missing")]));
    });
    assert!(matches!(e, OverlayError::Layer { index: 0, .. }), "{e}");
    let e = refused(&|b| {
        b.overlay_root(OverlayRoot::new([&dir]).upper(Upper::Dir(dir.join("x"))));
    });
    assert!(matches!(e, OverlayError::UpperDir { .. }), "{e}");
}
