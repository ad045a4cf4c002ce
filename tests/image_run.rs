//! Running an image from the store (`SandboxBuilder::image`): its Cmd, Entrypoint, Env,
//! WorkingDir and User are the commands' defaults and a command's own settings win; its
//! layers stack (whiteouts and opaque directories of a higher layer hide lower files); the
//! sandbox's writes go to the upper and the store's layers stay as they were; the default
//! hardening holds; a root caller's sandbox with a user namespace writes to the image's own
//! directories when the store shifts ids for it (and cannot without).
#[path = "image_run/busybox.rs"]
mod busybox;
mod common;
#[allow(dead_code)]
#[path = "overlay_root/layers.rs"]
mod layers;
#[path = "common/oci.rs"]
mod oci;

use busybox::{config, image, require_busybox, takes_opaque_marks, userns_options, Store};
use common::{require_userns, sandbox};
use isobox::{
    Command, ConfigError, Error, Image, ImageRunError, Mount, Namespaces, Output, Sandbox, UnpackOptions, Upper,
    UserMapping,
};
use serde_json::json;

fn three_layer_image(store: &Store, config: serde_json::Value) -> Image {
    let layers = vec![busybox::base(), busybox::middle(takes_opaque_marks()), busybox::top()];
    store.add(&image(layers, config), "bb:1")
}

fn image_sandbox(image: &Image, tweak: impl FnOnce(&mut isobox::SandboxBuilder)) -> Sandbox {
    sandbox(|b| {
        b.image(image).mount(Mount::proc("/proc"));
        tweak(b);
    })
}

fn run(sb: &Sandbox, cmd: &Command) -> String {
    let out: Output = sb.output(cmd).unwrap();
    assert!(out.report.success(), "{:?}: {}", out.report, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn rootless_the_image_command_env_and_working_dir_are_defaults_a_command_overrides() {
    if !require_userns() || !require_busybox() {
        return;
    }
    let store = Store::new(userns_options());
    let img = three_layer_image(&store, config());
    let sb = image_sandbox(&img, |_| {});
    // Entrypoint + Cmd, the image's Env, WorkingDir, and root (no User).
    assert_eq!(run(&sb, &sb.image_command().unwrap()), "A=from-image B=also\n/work\n0\n0\n");
    // Entrypoint + the caller's args; the command's env, directory and ids win.
    let mut cmd = sb.image_command_with(["echo A=$A B=$B C=$C; pwd; env | grep -c ^PATH=/bin$"]).unwrap();
    cmd.env("A", "mine").env_remove("B").env("C", "3").current_dir("/data");
    assert_eq!(run(&sb, &cmd), "A=mine B= C=3\n/data\n1\n");
    // A plain command gets the defaults too: PATH=/bin from the image finds `sh`.
    let plain = common::cmd("sh", &["-c", "echo $A; pwd"]);
    assert_eq!(run(&sb, &plain), "from-image\n/work\n");
    // env_clear starts from nothing, the image's Env included.
    let mut cleared = common::cmd("/bin/env", &[]);
    cleared.env_clear();
    assert_eq!(run(&sb, &cleared), "");
    // A pooled command and Child::exec get them as well.
    let expected = "A=from-image B=also\n/work\n0\n0\n";
    let pool = sb.pool(1).unwrap();
    assert_eq!(String::from_utf8(pool.output(&sb.image_command().unwrap()).unwrap().stdout).unwrap(), expected);
    let mut first = sb.spawn(&sb.image_command_with(["sleep 10"]).unwrap()).unwrap();
    let mut cmd = sb.image_command().unwrap();
    cmd.stdout(isobox::Stdio::piped());
    let out = first.exec(&cmd).unwrap().wait_with_output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
    first.kill().unwrap();
}

#[test]
fn rootless_without_an_image_a_command_is_as_before_and_a_missing_command_is_an_error() {
    let sb = sandbox(|_| {});
    assert!(matches!(sb.image_command(), Err(ImageRunError::NotAnImage)));
    let out = sb.output(&common::cmd("/bin/sh", &["-c", "echo \"$PATH\"; pwd"])).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("{}\n/\n", isobox::DEFAULT_PATH));
    if !require_busybox() {
        return;
    }
    let store = Store::new(userns_options());
    let img = three_layer_image(&store, json!({ "Env": ["X=1"] }));
    let sb = sandbox(|b| {
        b.image(&img);
    });
    assert!(matches!(sb.image_command(), Err(ImageRunError::NoCommand { .. })));
    // Without an Entrypoint the first argument is the program.
    assert_eq!(
        run(&sb, &sb.image_command_with(["/bin/sh", "-c", "echo $X $PATH"]).unwrap()),
        format!("1 {}\n", isobox::DEFAULT_PATH)
    );
}

#[test]
fn rootless_higher_layers_hide_lower_files_and_writes_never_reach_the_store() {
    if !require_userns() || !require_busybox() {
        return;
    }
    let store = Store::new(userns_options());
    let img = three_layer_image(&store, config());
    let before = store.layers_snapshot();
    let sb = image_sandbox(&img, |_| {});
    let opaque = if takes_opaque_marks() { "y" } else { "x y" };
    let script = "cat /etc/motd; ls /data | tr '\\n' ' '; echo; ls /opaque | tr '\\n' ' '; echo; cat /work/top.txt; \
        echo changed > /etc/motd && rm /data/keep.txt && mkdir /usr/lib/new && echo new > /bin/new && \
        cat /etc/motd && ls /data /usr/lib | tr '\\n' ' '";
    let said = run(&sb, &common::cmd("/bin/sh", &["-c", script]));
    assert_eq!(said, format!("mid\nkeep.txt \n{opaque} \ntop\nchanged\n/data:  /usr/lib: new x "));
    assert_eq!(store.layers_snapshot(), before, "the store's layers are unchanged");
    // The next sandbox of the image starts from its layers again.
    assert_eq!(run(&sb, &common::cmd("/bin/sh", &["-c", "cat /etc/motd; ls /data"])), "mid\nkeep.txt\n");
}

#[test]
fn rootless_a_directory_upper_keeps_the_changes_when_asked() {
    if !require_userns() || !require_busybox() {
        return;
    }
    let store = Store::new(userns_options());
    let img = three_layer_image(&store, config());
    let uppers = tempfile::tempdir_in(layers::layer_base().0).unwrap();
    std::fs::set_permissions(uppers.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let sb = sandbox(|b| {
        b.image_with(&img, Upper::Dir(uppers.path().into()), true);
    });
    let mut child = sb.spawn(&sb.image_command_with(["echo made > made.txt"]).unwrap()).unwrap();
    assert!(child.wait().unwrap().success());
    let dir = child.upper_dir().expect("kept");
    assert_eq!(std::fs::read(dir.join("work/made.txt")).unwrap(), b"made\n", "written in the WorkingDir");
}

#[test]
fn rootless_the_default_hardening_holds_over_an_image() {
    if !require_userns() || !require_busybox() {
        return;
    }
    let store = Store::new(userns_options());
    let img = three_layer_image(&store, config());
    let sb = image_sandbox(&img, |b| {
        b.mount(Mount::dev("/dev"));
    });
    let script = format!(
        "{}t mount mount -t tmpfs none /tmp; t sysrq sh -c 'echo h > /proc/sysrq-trigger'; \
         t masked sh -c 'test $(cat /proc/keys /proc/timer_list | wc -c) = 0'; \
         grep -e CapEff -e NoNewPrivs -e '^Seccomp:' /proc/self/status | tr -d '\\t'",
        common::TRY
    );
    let said = run(&sb, &common::cmd("/bin/sh", &["-c", &script]));
    assert_eq!(said, "mount failed\nsysrq failed\nmasked ok\nCapEff:0000000000000000\nNoNewPrivs:1\nSeccomp:2\n");
}

#[test]
fn rootless_the_user_is_resolved_against_the_images_own_passwd() {
    if !require_busybox() {
        return;
    }
    let store = Store::new(userns_options());
    let named = |user: &str| {
        let mut c = config();
        c["User"] = json!(user);
        c
    };
    let build = |img: &Image| {
        let mut b = Sandbox::builder();
        b.namespaces(common::full()).image(img);
        b.build()
    };
    let img = three_layer_image(&store, named("ghost"));
    let Err(Error::Config(ConfigError::Image(ImageRunError::UnknownUser { user, .. }))) = build(&img) else {
        panic!("an unknown user must fail build()")
    };
    assert_eq!(user, "ghost");
    let img = three_layer_image(&store, named("app:wheel"));
    assert!(matches!(build(&img), Err(Error::Config(ConfigError::Image(ImageRunError::UnknownGroup { .. })))));
    // A higher layer's whiteout of /etc/passwd hides the base's: "app" is then unknown.
    let hiding = busybox::tar(&[busybox::E::Dir("etc", 0o755), busybox::file("etc/.wh.passwd", b"")]);
    let layers = vec![busybox::base(), busybox::middle(takes_opaque_marks()), hiding];
    let img = store.add(&image(layers, named("app")), "bb:hidden");
    assert!(matches!(build(&img), Err(Error::Config(ConfigError::Image(ImageRunError::UnknownUser { .. })))));
    let img = three_layer_image(&store, named("app"));
    assert!(build(&img).is_ok(), "app is in the base's /etc/passwd");
}

/// The image's `User` runs as its ids, with their supplementary groups; the command's own
/// ids win. As root: a range of ids mapped directly, the store shifted onto it; rootless:
/// the subordinate ids.
#[test]
fn rootless_a_user_by_name_runs_with_its_ids_and_groups_in_a_mapped_range() {
    if !require_userns() || !require_busybox() {
        return;
    }
    let mapping = if common::is_root() {
        let range = vec![isobox::IdRange::new(0, 200_000, 65536)];
        UserMapping::Ranges { uids: range.clone(), gids: range }
    } else {
        UserMapping::Subordinate
    };
    let store = Store::new(UnpackOptions::for_user_namespace(&mapping).unwrap());
    let mut c = config();
    c["User"] = json!("app");
    c["Cmd"] = json!(["id -u; id -g; id -G; touch /tmp/mine && echo wrote"]);
    let img = three_layer_image(&store, c);
    let sb = image_sandbox(&img, |b| {
        b.user_mapping(mapping.clone());
    });
    assert_eq!(run(&sb, &sb.image_command().unwrap()), "1000\n1001\n1001 50\nwrote\n");
    let mut own = sb.image_command_with(["id -u; id -g"]).unwrap();
    own.uid(0);
    assert_eq!(run(&sb, &own), "0\n0\n", "the command's uid wins, and the image's gid goes with its user");
}

/// A root caller's sandbox with a user namespace is `nobody` on the host: with the store
/// shifted for that mapping it owns the image's files, directories the archive left out
/// included; with a store of the archive's own ids (host root's), overlayfs cannot copy
/// them up (EOVERFLOW).
#[test]
fn root_a_user_namespace_writes_to_the_image_only_with_a_shifted_store() {
    if !common::require_root() || !require_busybox() {
        return;
    }
    let script = "echo more >> /etc/motd && mkdir /usr/lib/new && touch /bin/new /tmp/x && echo wrote";
    let shifted = Store::new(userns_options());
    let img = three_layer_image(&shifted, config());
    let sb = image_sandbox(&img, |_| {});
    let before = shifted.layers_snapshot();
    assert_eq!(run(&sb, &common::cmd("/bin/sh", &["-c", script])), "wrote\n");
    assert_eq!(shifted.layers_snapshot(), before);
    let meta = std::fs::metadata(img.layer_dirs()[1].join("usr/lib")).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), isobox::NOBODY, "a made parent is the shifted root's");
    let plain = Store::new(UnpackOptions::default());
    let img = three_layer_image(&plain, config());
    let sb = image_sandbox(&img, |_| {});
    // The files are host root's, which the namespace shows as nobody's: not the sandbox's
    // root's to write; and where the mode lets it (/tmp, 1777), the copy-up fails.
    let script = "echo more >> /etc/motd; touch /tmp/x";
    let out = sb.output(&common::cmd("/bin/sh", &["-c", script])).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.report.success());
    assert!(stderr.contains("/etc/motd: Permission denied") && stderr.contains("Value too large"), "{stderr}");
}

/// Without a user namespace a root caller's store keeps the archive's ids, and its
/// sandbox's program is nobody unless the image or the command names a user.
#[test]
fn root_without_a_user_namespace_the_image_user_is_a_host_id() {
    if !common::require_root() || !require_busybox() {
        return;
    }
    let store = Store::new(UnpackOptions::default());
    let mut c = config();
    c["User"] = json!("app");
    let img = three_layer_image(&store, c);
    let mut b = Sandbox::builder();
    b.namespaces(Namespaces::MOUNT | Namespaces::PID).image(&img).mount(Mount::proc("/proc"));
    let sb = b.build().unwrap();
    assert_eq!(run(&sb, &sb.image_command().unwrap()), "A=from-image B=also\n/work\n1000\n1001\n");
    let img = three_layer_image(&store, config());
    let mut b = Sandbox::builder();
    b.namespaces(Namespaces::MOUNT | Namespaces::PID).image(&img);
    let sb = b.build().unwrap();
    assert_eq!(run(&sb, &sb.image_command_with(["id -u"]).unwrap()), format!("{}\n", isobox::NOBODY));
}

#[test]
fn without_a_user_namespace_an_image_cannot_ask_for_host_root() {
    if !common::require_root() || !require_busybox() {
        return;
    }
    let store = Store::new(UnpackOptions::default());
    for user in ["root", "0", "0:0", "app:0", "4294967295", "4294967295:4294967295"] {
        let mut c = config();
        c["User"] = json!(user);
        let img = three_layer_image(&store, c);
        let mut b = Sandbox::builder();
        b.namespaces(Namespaces::MOUNT | Namespaces::PID).image(&img);
        let err = b.build().unwrap_err();
        let refused =
            matches!(&err, isobox::Error::Config(isobox::ConfigError::Image(isobox::ImageRunError::HostRoot { .. })));
        assert!(refused, "User {user:?}: {err}");
        // With a user namespace, root is the sandbox's own.
        let mut b = Sandbox::builder();
        b.namespaces(Namespaces::USER | Namespaces::MOUNT | Namespaces::PID).image(&img);
        if !user.contains("4294967295") {
            assert!(b.build().is_ok(), "User {user:?} with a user namespace");
        }
    }
    // Nor can a command ask for -1, which would leave the caller's root in place.
    let img = three_layer_image(&store, config());
    let sb = Sandbox::builder().namespaces(Namespaces::MOUNT | Namespaces::PID).image(&img).build().unwrap();
    let mut cmd = sb.image_command_with(["id -u"]).unwrap();
    cmd.uid(u32::MAX);
    let err = sb.spawn(&cmd).unwrap_err();
    assert!(matches!(err, isobox::Error::Config(isobox::ConfigError::InvalidId { kind: "uid", .. })), "{err}");
}
