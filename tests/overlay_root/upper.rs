//! A directory upper: what the sandbox leaves in it (links to host paths, directories without
//! permissions) is removed without touching the host; the spawn directory stays the caller's;
//! a throwaway one needs a sandbox whose processes end with its first; a bind cannot reach it;
//! a killed caller's throwaway directories are swept by the next build.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use isobox::{ConfigError, Error, Mount, Namespaces, OverlayError, OverlayRoot, Upper};

use super::common;
use super::{many_layers, overlay_sandbox};

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

/// A directory for the spawn directories, searchable by the sandbox's root.
fn uppers() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), PermissionsExt::from_mode(0o755)).unwrap();
    dir
}

#[test]
fn rootless_links_out_and_locked_directories_left_in_the_upper_are_removed_without_touching_the_host() {
    if !common::require_userns() {
        return;
    }
    let (layers, mounts) = many_layers(2);
    let host = tempfile::tempdir().unwrap();
    let outside = host.path().join("outside");
    std::fs::create_dir_all(outside.join("sub")).unwrap();
    std::fs::set_permissions(&outside, PermissionsExt::from_mode(0o751)).unwrap();
    let uppers = uppers();
    let sb = overlay_sandbox(OverlayRoot::new(&layers.dirs).upper(Upper::Dir(uppers.path().into())), mounts);
    let o = outside.display();
    let script = format!("ln -s {o} /out && ln -s {o}/sub /d1 && mkdir -p /d2/d3 && chmod 0 /d2/d3 /d2 && echo done");
    let child = sb.spawn(common::cmd("/bin/sh", &["-c", &script]).stdout(isobox::Stdio::Piped)).unwrap();
    let upper = child.upper_dir().expect("a directory upper");
    let spawn_dir = upper.parent().unwrap().to_path_buf();
    let (meta, upper_meta) = (std::fs::metadata(&spawn_dir).unwrap(), std::fs::metadata(&upper).unwrap());
    assert_eq!((meta.uid(), meta.mode() & 0o7777), (nix::unistd::geteuid().as_raw(), 0o711), "the caller's");
    assert_eq!((upper_meta.uid(), upper_meta.gid()), common::sandbox_root_on_host(), "the sandbox root's");
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "done\n");
    assert!(std::fs::symlink_metadata(&spawn_dir).is_err(), "removed after the wait");
    assert_eq!((mode(&outside), mode(&outside.join("sub"))), (0o751, 0o755), "the host's directories");
}

#[test]
fn rootless_a_throwaway_directory_upper_needs_a_pid_namespace_or_a_cgroup() {
    let (layers, mounts) = many_layers(1);
    let uppers = uppers();
    let upper = Upper::Dir(uppers.path().into());
    let build = |ns: Namespaces, keep: bool| {
        let mut b = isobox::Sandbox::builder();
        b.namespaces(ns).overlay_root(OverlayRoot::new(&layers.dirs).upper(upper.clone()).keep_upper(keep));
        for m in &mounts {
            b.mount(m.clone());
        }
        b.build()
    };
    let without_pid = common::full() - Namespaces::PID;
    match build(without_pid, false) {
        Err(Error::Config(ConfigError::Overlay(OverlayError::ThrowawayUpperUncontained))) => {}
        other => panic!("expected ThrowawayUpperUncontained, got {:?}", other.err()),
    }
    build(without_pid, true).expect("a kept upper is never removed");
    build(common::full(), false).expect("with a PID namespace");
}

#[test]
fn rootless_a_bind_source_at_around_or_inside_the_upper_directory_is_refused() {
    let (layers, mounts) = many_layers(1);
    let uppers = uppers();
    std::fs::create_dir(uppers.path().join("in")).unwrap();
    let around = uppers.path().parent().unwrap().to_path_buf();
    for source in [uppers.path().to_path_buf(), around, uppers.path().join("in")] {
        let mut b = isobox::Sandbox::builder();
        b.namespaces(common::full())
            .overlay_root(OverlayRoot::new(&layers.dirs).upper(Upper::Dir(uppers.path().into())));
        for m in mounts.iter().cloned().chain([Mount::bind(&source, "/mnt")]) {
            b.mount(m);
        }
        match b.build() {
            Err(Error::Config(ConfigError::Overlay(OverlayError::BindOverUpper { source_path, .. }))) => {
                assert_eq!(source_path, std::fs::canonicalize(&source).unwrap());
            }
            other => panic!("expected BindOverUpper for {source:?}, got {:?}", other.err()),
        }
    }
}

/// Run by the next test in a process of its own, which it kills: spawns a sandbox with a
/// throwaway directory upper, prints its directory, and waits to be killed.
#[test]
#[ignore = "run by rootless_a_killed_callers_throwaway_upper_is_swept_by_the_next_build"]
fn upper_owner_to_be_killed() {
    let Some(dir) = std::env::var_os("ISOBOX_TEST_UPPERS") else {
        return;
    };
    let (layers, mounts) = many_layers(1);
    let sb = overlay_sandbox(OverlayRoot::new(&layers.dirs).upper(Upper::Dir(dir.into())), mounts);
    let child = sb.spawn(&common::cmd("/bin/sleep", &["100"])).unwrap();
    println!("UPPER {}", child.upper_dir().unwrap().display());
    std::thread::sleep(std::time::Duration::from_secs(100));
}

#[test]
fn rootless_a_killed_callers_throwaway_upper_is_swept_by_the_next_build() {
    if !common::require_userns() {
        return;
    }
    use std::io::BufRead;
    let uppers = uppers();
    let kept = uppers.path().join("1-0");
    std::fs::create_dir_all(kept.join("upper")).unwrap();
    let mut helper = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "upper::upper_owner_to_be_killed", "--ignored", "--nocapture", "--test-threads=1"])
        .env("ISOBOX_TEST_UPPERS", uppers.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = std::io::BufReader::new(helper.stdout.take().unwrap()).lines();
    let said = lines.map_while(Result::ok).find_map(|l| l.split_once("UPPER ").map(|(_, p)| PathBuf::from(p)));
    helper.kill().unwrap();
    helper.wait().unwrap();
    let spawn_dir = said.expect("the helper's upper directory").parent().unwrap().to_path_buf();
    assert!(spawn_dir.is_dir(), "left behind by the killed caller: {spawn_dir:?}");
    let (layers, mounts) = many_layers(1);
    let _next = overlay_sandbox(OverlayRoot::new(&layers.dirs).upper(Upper::Dir(uppers.path().into())), mounts);
    assert!(std::fs::symlink_metadata(&spawn_dir).is_err(), "swept at build: {spawn_dir:?}");
    assert!(kept.is_dir(), "a kept one's name is never swept");
}
