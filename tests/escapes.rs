//! The escapes found before hardening, tried again from inside the sandbox with its defaults;
//! the host is checked afterwards. Each also runs with host root inside (the explicit
//! `UserMapping::Current`), where only the capabilities and the filter stand in the way.

mod common;

use std::path::{Path, PathBuf};

use common::{full, require_root, require_userns, sandbox, sh_output, TRY};
use isobox::{Command, Namespaces, Sandbox, Stdio, UserMapping};

/// The shell's report of each attempt: `name ok` or `name failed`.
fn attempts(sb: &Sandbox, script: &str) -> String {
    let out = sh_output(sb, script);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn rootless_read_only_binds_cannot_be_remounted_writable() {
    if !require_userns() {
        return;
    }
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("file"), "host\n").unwrap();
    std::fs::set_permissions(host.path(), std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let script = format!(
        "{TRY}t remount_ro mount -o remount,bind,rw /ro\nt remount_usr mount -o remount,bind,rw /usr\n\
         t write sh -c 'echo sandbox > /ro/file'\nt create touch /ro/new"
    );
    for mapping in mappings() {
        let sb = sandbox(|b| {
            b.user_mapping(mapping.clone()).mount(isobox::Mount::bind_ro(host.path(), "/ro"));
        });
        let said = attempts(&sb, &script);
        assert_eq!(said, "remount_ro failed\nremount_usr failed\nwrite failed\ncreate failed\n", "{mapping:?}");
    }
    assert_eq!(std::fs::read_to_string(host.path().join("file")).unwrap(), "host\n");
    assert!(!host.path().join("new").exists());
    // With every capability and no filter the remount goes through (nothing is written): the
    // attempts above can fail.
    let sb = sandbox(|b| {
        b.capabilities(isobox::Capabilities::all())
            .seccomp(isobox::Seccomp::none())
            .mount(isobox::Mount::bind_ro(host.path(), "/ro"));
    });
    let said = attempts(&sb, &format!("{TRY}t remount_ro mount -o remount,bind,rw /ro"));
    assert_eq!(said, "remount_ro ok\n");
}

/// The default, and host root inside where the caller is root.
fn mappings() -> Vec<UserMapping> {
    let mut m = vec![UserMapping::Unprivileged];
    if common::is_root() {
        m.push(UserMapping::Current);
    }
    m
}

/// The host's memory.limit_in_bytes (v1) or memory.max (v2) and pids.max of the sandbox.
fn host_limits(child: &isobox::Child) -> Vec<(PathBuf, String)> {
    let files = ["memory.limit_in_bytes", "memory.max", "pids.max"];
    child
        .cgroup_dirs()
        .iter()
        .flat_map(|d| files.iter().map(move |f| d.join(f)))
        .filter(|p| p.exists())
        .map(|p| (p.clone(), std::fs::read_to_string(&p).unwrap()))
        .collect()
}

const MOUNT_V1: &str = "t mount_v1 mount -t cgroup -o pids none /mnt\n";
const MOUNT_V2: &str = "t mount_v2 mount -t cgroup2 none /mnt\n";

/// Runs the cgroup escape script in a sandbox of `b` and returns what it said and the host's
/// view of its limits, read while it waits after its attempts (`mounts`: `t` lines).
fn cgroup_attempts(b: &mut isobox::SandboxBuilder, parent: &str, mounts: &[&str]) -> (String, Vec<(PathBuf, String)>) {
    let script = format!(
        "{TRY}{}if grep -q ' /mnt .* - cgroup' /proc/self/mountinfo; then t raise sh -c 'echo max > /mnt/pids.max'; fi\n\
         echo done\nread wait",
        mounts.concat()
    );
    b.namespaces(full() | Namespaces::CGROUP).mount(isobox::Mount::tmpfs("/mnt"));
    b.memory_max(64 << 20).pids_max(16).cgroup_parent(parent);
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", &script]).stdout(Stdio::Piped).stdin(Stdio::Piped);
    let mut child = b.build().unwrap().spawn(&cmd).unwrap();
    let mut said = String::new();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap());
    while !said.ends_with("done\n") {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut lines, &mut line).unwrap() == 0 {
            break;
        }
        said.push_str(&line);
    }
    let limits = host_limits(&child);
    drop(child.stdin.take());
    child.wait().unwrap();
    (said, limits)
}

#[test]
fn a_root_callers_sandbox_cannot_mount_cgroups_or_raise_its_limits() {
    if !require_root() {
        return;
    }
    let parent = format!("/isobox-test-{}-escape", std::process::id());
    let _cleanup = RemoveCgroupParent(parent[1..].to_owned());
    for mapping in mappings() {
        let mut b = Sandbox::builder();
        b.user_mapping(mapping.clone());
        let (said, limits) = cgroup_attempts(&mut b, &parent, &[MOUNT_V1, MOUNT_V2]);
        for attempt in ["mount_v1", "mount_v2"] {
            assert!(said.contains(&format!("{attempt} failed")), "{mapping:?}: {said}");
        }
        assert!(!limits.is_empty(), "no limit files of the sandbox found");
        for (file, value) in &limits {
            let v = value.trim();
            // 16 processes for the program, and one for isobox's init (pid 1).
            assert!(v == "17" || v == (64u64 << 20).to_string(), "{file:?} is {value} after the attempts");
        }
    }
    // With host root inside, every capability and no filter, the mount goes through: the
    // attempts above can fail. Only cgroup2 here: the kernel itself refuses a v1 mount from a
    // cgroup namespace, and before refusing it waits, unkillable, for every dying controller
    // state of the whole v2 tree (cgroup_lock_and_drain_offline): the likely cause of one CI
    // run that hung in this binary on the v2-only kernel.
    let mut b = Sandbox::builder();
    b.user_mapping(UserMapping::Current).capabilities(isobox::Capabilities::all()).seccomp(isobox::Seccomp::none());
    let (said, _) = cgroup_attempts(&mut b, &parent, &[MOUNT_V2]);
    assert!(said.contains("mount_v2 ok"), "loosened: {said}");
}

/// Removes the test's cgroup parent from every hierarchy however the test ends, waiting while
/// the last sandbox's cgroup below it is still going away.
struct RemoveCgroupParent(String);

impl Drop for RemoveCgroupParent {
    fn drop(&mut self) {
        let dirs: Vec<_> =
            std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten().map(|h| h.path().join(&self.0)).collect();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        for dir in dirs {
            while dir.exists() && std::fs::remove_dir(&dir).is_err() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            assert!(!dir.exists() || std::thread::panicking(), "{dir:?} left behind");
        }
    }
}

#[test]
fn a_root_callers_sandbox_cannot_write_sysctls_or_read_shadow() {
    if !require_root() {
        return;
    }
    let sysctl = Path::new("/proc/sys/kernel/printk_ratelimit");
    let value = std::fs::read_to_string(sysctl).unwrap();
    let other = if value.trim() == "5" { "6" } else { "5" };
    let script =
        format!("{TRY}t sysctl sh -c 'echo {other} > /proc/sys/kernel/printk_ratelimit'\nt shadow cat /etc/shadow\n");
    // Host root inside is what the opt-in says: root's files are its own (shadow is owner-
    // readable), but the tunables stay read-only.
    for (mapping, expected) in [
        (UserMapping::Unprivileged, "sysctl failed\nshadow failed\n"),
        (UserMapping::Current, "sysctl failed\nshadow ok\n"),
    ] {
        let sb = sandbox(|b| {
            b.user_mapping(mapping.clone());
        });
        assert_eq!(attempts(&sb, &script), expected, "{mapping:?}");
        assert_eq!(std::fs::read_to_string(sysctl).unwrap(), value, "the host's sysctl changed");
    }
}
