//! Device nodes and the host's device inodes, tried from inside the sandbox; the host is
//! checked afterwards. A rootfs or bind may carry any device node (an image unpacked by
//! root keeps them), so nodes there are inert unless bound on purpose (`Mount::dev_bind`),
//! and the host's own /dev inodes a sandbox sees (its /dev, the procfs masks) cannot be
//! changed even by host root inside.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use common::{full, require_root, sandbox, sh, TRY};
use isobox::{Mount, Namespaces, Sandbox, UserMapping};

/// A rootfs borrowing the host's /usr (bound by the sandbox), with a world-readable and
/// -writable copy of the host's null device at `/zz`.
fn rootfs_with_node(dir: &Path) -> PathBuf {
    for sub in ["usr", "proc", "dev", "tmp", "d", "b"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    for (name, target) in [("bin", "usr/bin"), ("lib", "usr/lib"), ("lib64", "usr/lib64")] {
        std::os::unix::fs::symlink(target, dir.join(name)).unwrap();
    }
    let node = dir.join("zz");
    let null = std::fs::metadata("/dev/null").unwrap().rdev();
    let mode = nix::sys::stat::Mode::from_bits_truncate(0o666);
    nix::sys::stat::mknod(&node, nix::sys::stat::SFlag::S_IFCHR, mode, null).unwrap();
    std::fs::set_permissions(&node, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    node
}

const OPEN: &str = "o() { if head -c 0 \"$1\"; then echo \"$1 opened\"; else echo \"$1 refused\"; fi; }\n";

#[test]
fn a_device_node_in_a_rootfs_or_bind_opens_only_when_bound_on_purpose() {
    if !require_root() {
        return;
    }
    // On a tmpfs of our own: the directory for temporary files may itself be nodev (it is in
    // the VM), and then no bind of it could open the node.
    let host = tempfile::tempdir().unwrap();
    let _tmpfs = HostMount::tmpfs(host.path());
    let root = host.path().join("root");
    let node = rootfs_with_node(&root);
    let extra = host.path().join("extra");
    rootfs_with_node(&extra);
    let sb = Sandbox::builder()
        .namespaces(full())
        .rootfs(&root)
        .mount(Mount::bind_ro("/usr", "/usr"))
        .mount(Mount::bind(&extra, "/b"))
        .mount(Mount::dev_bind(&extra, "/d"))
        .build()
        .unwrap();
    let out = sh(&sb, &format!("{OPEN}o /zz; o /b/zz; o /d/zz"));
    assert_eq!(out, "/zz refused\n/b/zz refused\n/d/zz opened\n");
    let meta = std::fs::metadata(&node).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o666, "the node on the host is unchanged");
}

#[test]
fn host_root_inside_cannot_change_the_hosts_device_inodes() {
    if !require_root() {
        return;
    }
    let ctimes = || ["/dev/null", "/dev/full"].map(|p| std::fs::metadata(p).unwrap().ctime_nsec());
    let before = ctimes();
    // chmod to the mode each already has: harmless if it went through, but it would still
    // change the inode's ctime.
    let full_mode = std::fs::metadata("/dev/full").unwrap().mode() & 0o7777;
    let null_mode = std::fs::metadata("/dev/null").unwrap().mode() & 0o7777;
    let script = format!("{TRY}t dev chmod {full_mode:o} /dev/full\nt mask chmod {null_mode:o} /proc/interrupts\n");
    for (what, sb) in [
        (
            "host root in a user namespace",
            sandbox(|b| {
                b.user_mapping(UserMapping::Current);
            }),
        ),
        ("uid 0 without a user namespace", {
            let mut b = Sandbox::builder();
            b.namespaces(Namespaces::PID | Namespaces::MOUNT).user_mapping(UserMapping::Current);
            b.build().unwrap()
        }),
    ] {
        assert_eq!(sh(&sb, &script), "dev failed\nmask failed\n", "{what}");
    }
    assert_eq!(ctimes(), before, "the host's /dev/null and /dev/full were not touched");
}

/// A mount of the test's on a temporary directory of the host, undone on drop.
struct HostMount(PathBuf);

impl HostMount {
    /// A shared bind of `dir` onto itself.
    fn shared_bind(dir: &Path) -> HostMount {
        use nix::mount::{mount, MsFlags};
        mount(Some(dir), dir, None::<&str>, MsFlags::MS_BIND, None::<&str>).unwrap();
        let guard = HostMount(dir.to_path_buf());
        mount(None::<&str>, dir, None::<&str>, MsFlags::MS_SHARED, None::<&str>).unwrap();
        guard
    }

    /// A tmpfs at `dir`, without nodev.
    fn tmpfs(dir: &Path) -> HostMount {
        nix::mount::mount(Some("tmpfs"), dir, Some("tmpfs"), nix::mount::MsFlags::empty(), None::<&str>).unwrap();
        HostMount(dir.to_path_buf())
    }
}

impl Drop for HostMount {
    /// Unmounts every mount at the path: a regression that propagated the sandbox's mounts
    /// back leaves more than ours stacked there.
    fn drop(&mut self) {
        for _ in 0..16 {
            if host_mounts_under(&self.0).is_empty() {
                return;
            }
            let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

fn host_mounts_under(dir: &Path) -> Vec<String> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let dir = dir.to_str().unwrap();
    info.lines().filter(|l| l.split(' ').nth(4).is_some_and(|m| m.starts_with(dir))).map(String::from).collect()
}

#[test]
fn mounts_on_a_shared_rootfs_stay_in_the_sandbox_without_a_user_namespace() {
    if !require_root() {
        return;
    }
    // Without a user namespace the kernel keeps the sharing of copied mounts, so only the
    // plan's own MakePrivate keeps the sandbox's mounts from propagating back.
    let host = tempfile::tempdir().unwrap();
    let root = host.path().join("root");
    rootfs_with_node(&root);
    let _shared = HostMount::shared_bind(&root);
    let before = host_mounts_under(&root);
    assert_eq!(before.len(), 1, "{before:?}");
    let sb = Sandbox::builder()
        .namespaces(Namespaces::PID | Namespaces::MOUNT)
        .rootfs(&root)
        .mount(Mount::bind_ro("/usr", "/usr"))
        .mount(Mount::tmpfs("/tmp"))
        .mount(Mount::proc("/proc"))
        .build()
        .unwrap();
    assert_eq!(sh(&sb, "grep -c ' /tmp ' /proc/self/mountinfo"), "1\n", "the tmpfs is there inside");
    assert_eq!(host_mounts_under(&root), before, "nothing propagated to the host");
}

/// A device node made in the sandbox has its numbers, mode and owner, and cannot be opened:
/// the mount it is on is nodev. A FIFO works anywhere; a device node in a user namespace is
/// refused at build.
#[test]
fn a_device_node_exists_as_asked_but_cannot_be_opened() {
    if !common::require_root() {
        return;
    }
    let rootfs = tempfile::tempdir().unwrap();
    for d in ["bin", "dev", "proc"] {
        std::fs::create_dir(rootfs.path().join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", rootfs.path().join("bin/busybox")).unwrap();
    let sandbox = isobox::Sandbox::builder()
        .namespaces(isobox::Namespaces::MOUNT | isobox::Namespaces::PID)
        .user_mapping(isobox::UserMapping::Current)
        .rootfs(rootfs.path())
        .mount(isobox::Mount::dev("/dev"))
        .mount(isobox::Mount::device_node("/dev/zero2", isobox::DeviceNode::char(1, 5).mode(0o640).owner(7, 8)))
        .mount(isobox::Mount::device_node("/dev/sub/pipe", isobox::DeviceNode::fifo().mode(0o662)))
        .capabilities(isobox::Capabilities::DAC_OVERRIDE)
        .build()
        .unwrap();
    let script = "stat -c '%F %t:%T %a %u:%g' /dev/zero2 /dev/sub/pipe; head -c1 /dev/zero2 >/dev/null && echo opened || echo refused";
    let out = sandbox.output(isobox::Command::new("/bin/busybox").args(["sh", "-c", script])).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text,
        "character special file 1:5 640 7:8\nfifo 0:0 662 0:0\nrefused\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!rootfs.path().join("dev/zero2").exists(), "made on the sandbox's /dev tmpfs, not the rootfs");
    let in_userns = isobox::Sandbox::builder()
        .namespaces(common::full())
        .mount(isobox::Mount::device_node("/dev/x", isobox::DeviceNode::block(8, 0)))
        .build();
    assert!(matches!(in_userns, Err(isobox::Error::Config(isobox::ConfigError::DeviceNodeInUserNamespace { .. }))));
}
