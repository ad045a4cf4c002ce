//! Masked /proc entries and mount targets confined to the new root: each attempt is made from
//! inside the sandbox (or by a hostile rootfs), and the host is checked afterwards.

mod common;

use std::path::Path;

use common::{full, require_userns, sandbox, sh, sh_output};
use isobox::{Command, ConfigError, Error, Mount, Namespaces, Sandbox};

/// Entries this kernel has, and that the masks must hide.
fn present_masked_files() -> Vec<&'static str> {
    isobox::MASKED_PROC_PATHS.iter().copied().filter(|p| Path::new(p).is_file()).collect()
}

#[test]
fn rootless_masked_proc_files_read_empty_and_tunables_are_read_only() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|_| {});
    let files = present_masked_files();
    assert!(!files.is_empty(), "this kernel has none of the masked files: the test would prove nothing");
    for file in &files {
        let bytes = sh(&sb, &format!("cat {file} | wc -c"));
        assert_eq!(bytes.trim(), "0", "{file} is readable inside");
        let kind = sh(&sb, &format!("stat -c %F {file}"));
        assert_eq!(kind.trim(), "character special file", "{file} is not the host's /dev/null");
    }
    if Path::new("/proc/acpi").is_dir() {
        assert_eq!(sh(&sb, "ls -A /proc/acpi | wc -l").trim(), "0", "/proc/acpi is listed inside");
        assert_eq!(sh(&sb, "stat -c %F /proc/acpi").trim(), "directory", "/proc/acpi is covered, not gone");
    }
    let mut writes = vec![
        // Its own value, so that the host is unchanged even if the write got through.
        ("a sysctl", "v=$(cat /proc/sys/kernel/printk_ratelimit); echo $v > /proc/sys/kernel/printk_ratelimit"),
    ];
    // Kernels without CONFIG_MAGIC_SYSRQ have no trigger to protect.
    if Path::new("/proc/sysrq-trigger").exists() {
        writes.push(("sysrq-trigger", "echo h > /proc/sysrq-trigger"));
    }
    for (what, script) in writes {
        let out = sh_output(&sb, &format!("{{ {script}; }} 2>&1"));
        assert!(!out.report.success(), "writing {what} succeeded inside");
        // Read-only where the sandbox's identity is host root; refused by the file's owner
        // and mode (host root's) everywhere else.
        let said = String::from_utf8_lossy(&out.stdout);
        let refused = said.contains("Read-only file system") || said.contains("Permission denied");
        assert!(refused, "writing {what}: {said}");
    }
    // The masks hide entries; the rest of /proc works as before.
    assert_eq!(sh(&sb, "cat /proc/self/comm").trim(), "cat");
}

#[test]
fn with_host_root_inside_the_tunables_are_bound_read_only() {
    if !common::require_root() {
        return;
    }
    let sb = sandbox(|b| {
        b.user_mapping(isobox::UserMapping::Current);
    });
    let write = "v=$(cat /proc/sys/kernel/printk_ratelimit); echo $v > /proc/sys/kernel/printk_ratelimit";
    let out = sh_output(&sb, &format!("{{ {write}; }} 2>&1"));
    assert!(!out.report.success(), "host root wrote a sysctl");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Read-only file system"));
    assert_eq!(sh(&sb, "grep -c ' /proc/sys ro,' /proc/self/mountinfo").trim(), "1");
    assert_eq!(sh(&sandbox(|_| {}), "grep -c ' /proc/sys ' /proc/self/mountinfo || true").trim(), "0");
}

#[test]
fn rootless_masks_can_be_turned_off_explicitly() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|b| {
        b.masked_paths(false);
    });
    let out = sh(&sb, "wc -c < /proc/interrupts");
    assert_ne!(out.trim(), "0", "without masks /proc/interrupts has content");
}

#[test]
fn rootless_a_user_proc_mount_is_masked_too() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|b| {
        b.mount(Mount::proc("/mnt/proc2"));
    });
    assert_eq!(sh(&sb, "cat /mnt/proc2/interrupts | wc -c").trim(), "0");
    // A procfs is there, its interrupts covered (an empty or missing file would read 0 too).
    let seen = sh(&sb, "test -e /mnt/proc2/self/stat && stat -c %F /mnt/proc2/interrupts");
    assert_eq!(seen.trim(), "character special file");
}

#[test]
fn a_parent_dir_in_a_target_is_refused_at_build() {
    let err = Sandbox::builder()
        .namespaces(full())
        .mount(Mount::tmpfs("/../escape"))
        .build()
        .expect_err("a target with .. must be refused");
    assert!(matches!(err, Error::Config(ConfigError::ParentDirInTarget { .. })), "{err}");
    assert!(err.to_string().contains("`..`"), "{err}");
    let err = Sandbox::builder().namespaces(full()).mount(Mount::tmpfs("/")).build().expect_err("a mount on /");
    assert!(matches!(err, Error::Config(ConfigError::TargetIsRoot { .. })), "{err}");
}

/// A rootfs with the host's system directories bound read-only, and `link` -> `to`.
fn hostile_rootfs(dir: &Path, link: &str, to: &Path) {
    for sub in ["usr", "etc", "proc", "dev", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    for (name, target) in [("bin", "usr/bin"), ("lib", "usr/lib"), ("lib64", "usr/lib64"), ("sbin", "usr/sbin")] {
        std::os::unix::fs::symlink(target, dir.join(name)).unwrap();
    }
    std::os::unix::fs::symlink(to, dir.join(link)).unwrap();
}

/// A temporary host directory holding `root`, a hostile rootfs with `link` -> `/inner`, and
/// the directory `inner` inside it.
fn rootfs_linking_inside(link: &str, inner: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let host = tempfile::tempdir().unwrap();
    let root = host.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::create_dir(root.join(inner)).unwrap();
    hostile_rootfs(&root, link, &Path::new("/").join(inner));
    (host, root)
}

fn rootfs_sandbox(root: &Path, extra: Mount) -> Sandbox {
    let mut b = Sandbox::builder();
    b.namespaces(full() | Namespaces::PID)
        .rootfs(root)
        .mount(Mount::bind_ro("/usr", "/usr"))
        .mount(Mount::proc("/proc"))
        .mount(extra);
    b.build().expect("valid")
}

#[test]
fn rootless_a_symlink_in_the_rootfs_cannot_send_a_mount_outside_it() {
    if !require_userns() {
        return;
    }
    let host = tempfile::tempdir().unwrap();
    let outside = host.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    for to in [outside.clone(), Path::new("../../../../../../..").join(outside.strip_prefix("/").unwrap())] {
        let root = tempfile::tempdir_in(host.path()).unwrap();
        hostile_rootfs(root.path(), "evil", &to);
        // The link resolves inside the root, where `outside` does not exist.
        let sb = rootfs_sandbox(root.path(), Mount::tmpfs("/evil/made"));
        let result = sb.status(&Command::new("/bin/true"));
        assert!(result.is_err(), "a mount through {to:?} succeeded");
        // Refused because the link's target is missing inside the root, not for another reason.
        let Err(Error::Setup(setup)) = &result else { panic!("expected a setup error: {result:?}") };
        assert_eq!((setup.step, setup.errno), (isobox::Step::Mount, nix::errno::Errno::ENOENT), "{setup}");
        assert!(!outside.join("made").exists(), "isobox created {:?} on the host", outside.join("made"));
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0, "something appeared in {outside:?}");
    }
}

#[test]
fn rootless_a_symlink_in_the_rootfs_is_followed_inside_it() {
    if !require_userns() {
        return;
    }
    let (_host, root) = rootfs_linking_inside("evil", "inside");
    common::give_to_sandbox(&root.join("inside"));
    let sb = rootfs_sandbox(&root, Mount::tmpfs("/evil/made"));
    let seen = sh(&sb, "grep -c ' /inside/made ' /proc/self/mountinfo");
    assert_eq!(seen.trim(), "1", "the tmpfs is at /inside/made inside the sandbox");
    assert!(root.join("inside/made").is_dir(), "the mount point was made inside the rootfs");
}

#[test]
fn rootless_a_proc_mounted_through_a_link_is_still_masked() {
    if !require_userns() {
        return;
    }
    let (_host, root) = rootfs_linking_inside("p", "elsewhere");
    let sb = rootfs_sandbox(&root, Mount::proc("/p"));
    assert_eq!(sh(&sb, "cat /elsewhere/interrupts | wc -c").trim(), "0");
    // The procfs is at the link's target inside, its interrupts covered (a missing file would
    // read 0 too).
    let seen = sh(&sb, "test -e /elsewhere/self/stat && stat -c %F /elsewhere/interrupts");
    assert_eq!(seen.trim(), "character special file");
}

#[test]
fn rootless_the_default_roots_directories_keep_their_modes() {
    if !require_userns() {
        return;
    }
    let modes = sh(&sandbox(|_| {}), "stat -c '%n %a' / /dev /tmp /dev/shm");
    assert_eq!(modes, "/ 755\n/dev 755\n/tmp 1777\n/dev/shm 1777\n");
}
