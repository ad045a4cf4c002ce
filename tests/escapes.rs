//! The escapes found before hardening, tried again from inside the sandbox with its defaults;
//! the host is checked afterwards. Each also runs with host root inside (the explicit
//! `UserMapping::Current`), where only the capabilities and the filter stand in the way.

mod common;

use std::path::{Path, PathBuf};

use common::{full, require_root, require_userns, sandbox, sh_output};
use isobox::{Command, Namespaces, Sandbox, Stdio, UserMapping};

/// The shell's report of each attempt: `name ok` or `name failed`.
fn attempts(sb: &Sandbox, script: &str) -> String {
    let out = sh_output(sb, script);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const TRY: &str = "t() { n=$1; shift; if \"$@\" >/dev/null 2>&1; then echo \"$n ok\"; else echo \"$n failed\"; fi; }\n";

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

#[test]
fn a_root_callers_sandbox_cannot_mount_cgroups_or_raise_its_limits() {
    if !require_root() {
        return;
    }
    let parent = format!("/isobox-test-{}-escape", std::process::id());
    let script = format!(
        "{TRY}t mount_v1 mount -t cgroup -o memory,pids none /mnt\nt mount_v2 mount -t cgroup2 none /mnt\n\
         t mkdir_in_ns mkdir /sys/fs/cgroup/x\nt raise sh -c 'echo max > /mnt/pids.max'\necho done"
    );
    for mapping in mappings() {
        let mut b = Sandbox::builder();
        b.namespaces(full() | Namespaces::CGROUP).user_mapping(mapping.clone());
        b.memory_max(64 << 20).pids_max(16).cgroup_parent(&parent);
        let sb = b.build().unwrap();
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", &script]).stdout(Stdio::Piped);
        let child = sb.spawn(&cmd).unwrap();
        let before = host_limits(&child);
        assert!(!before.is_empty(), "no limit files found for {:?}", child.cgroup_dirs());
        let out = child.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        for attempt in ["mount_v1", "mount_v2", "mkdir_in_ns", "raise"] {
            assert!(said.contains(&format!("{attempt} failed")), "{mapping:?}: {said}");
        }
        assert!(said.ends_with("done\n"), "{said}");
        for (file, value) in &before {
            assert!(value.trim() != "max" && value.trim() != "9223372036854771712", "{file:?} is {value}");
        }
    }
    for hierarchy in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let _ = std::fs::remove_dir(hierarchy.path().join(&parent[1..]));
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
