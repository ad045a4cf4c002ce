//! The root and mounts a user asks for (**parent**: plain data, compiled by [`super::plan`]).

use std::fmt;
use std::path::{Path, PathBuf};

use super::overlay::spec::OverlayRoot;

/// The root and mounts the builder recorded.
#[derive(Debug, Clone)]
pub(crate) struct MountSpec {
    pub rootfs: Option<PathBuf>,
    /// An overlay root in place of `rootfs`.
    pub overlay: Option<OverlayRoot>,
    pub mounts: Vec<Mount>,
    pub readonly_root: bool,
    /// Mask and make read-only the sensitive entries of every procfs (default: on).
    pub masked_paths: bool,
    /// The root mount's propagation (`SandboxBuilder::root_propagation`).
    pub root_propagation: Option<(Propagation, bool)>,
}

impl Default for MountSpec {
    fn default() -> Self {
        MountSpec {
            rootfs: None,
            overlay: None,
            mounts: Vec::new(),
            readonly_root: false,
            masked_paths: true,
            root_propagation: None,
        }
    }
}

/// How mount and unmount events under a mount propagate to other mounts of the sandbox's
/// namespace (mount_namespaces(7)). Every mount starts private there, and the sandbox's
/// namespace is private to the caller's, so none of these reaches the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Propagation {
    /// Receives and sends nothing (the default).
    Private,
    /// In a peer group: mounts below it appear at its copies (binds of it) and the other way.
    Shared,
    /// Receives from its master's peer group, sends nothing (a private one stays private).
    Slave,
    /// Private, and cannot be the source of a bind.
    Unbindable,
}

impl Propagation {
    /// The MS_* flag mount_setattr(2) takes.
    // c_ulong: u64 on the 64-bit targets isobox builds for, the cast keeps it so elsewhere.
    #[allow(clippy::unnecessary_cast)]
    pub(crate) fn flag(self) -> u64 {
        (match self {
            Propagation::Private => libc::MS_PRIVATE,
            Propagation::Shared => libc::MS_SHARED,
            Propagation::Slave => libc::MS_SLAVE,
            Propagation::Unbindable => libc::MS_UNBINDABLE,
        }) as u64
    }
}

/// A device node or FIFO for [`Mount::device_node`]: its kind and numbers, permission bits
/// (default 0666) and owner inside the sandbox (default 0:0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceNode {
    pub(crate) kind: u32,
    pub(crate) major: u32,
    pub(crate) minor: u32,
    pub(crate) mode: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

impl DeviceNode {
    /// A character device.
    #[must_use]
    pub fn char(major: u32, minor: u32) -> DeviceNode {
        DeviceNode { kind: libc::S_IFCHR, major, minor, mode: 0o666, uid: 0, gid: 0 }
    }

    /// A block device.
    #[must_use]
    pub fn block(major: u32, minor: u32) -> DeviceNode {
        DeviceNode { kind: libc::S_IFBLK, ..DeviceNode::char(major, minor) }
    }

    /// A FIFO (named pipe).
    #[must_use]
    pub fn fifo() -> DeviceNode {
        DeviceNode { kind: libc::S_IFIFO, ..DeviceNode::char(0, 0) }
    }

    /// Its permission bits (07777 at most; the caller's umask does not apply).
    #[must_use]
    pub fn mode(mut self, bits: u32) -> DeviceNode {
        self.mode = bits & 0o7777;
        self
    }

    /// Its owner, as ids inside the sandbox.
    #[must_use]
    pub fn owner(mut self, uid: u32, gid: u32) -> DeviceNode {
        (self.uid, self.gid) = (uid, gid);
        self
    }

    /// Whether it is a device (a character or block one), which mknod(2) makes only with
    /// CAP_MKNOD on the host.
    pub(crate) fn is_device(&self) -> bool {
        self.kind != libc::S_IFIFO
    }
}

/// One mount inside the sandbox, applied in the order given to the builder.
/// Targets are absolute paths inside the sandbox; missing mount points are created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub(crate) kind: MountKind,
    pub(crate) target: PathBuf,
    /// A tmpfs-only option given to another kind; `build()` refuses it rather than ignore it.
    pub(crate) misapplied: Option<&'static str>,
    /// `MOUNT_ATTR_NOEXEC` and `MOUNT_ATTR_NOSUID` asked for on a bind or tmpfs.
    pub(crate) extra_attrs: u64,
    /// The source the mount table shows for a new filesystem ([`Mount::source_name`]).
    pub(crate) source_name: Option<Box<str>>,
    /// [`Mount::propagation`]: the kind, and whether for every mount below too.
    pub(crate) propagation: Option<(Propagation, bool)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MountKind {
    /// A recursive bind of a host path; `readonly` holds for every submount too. Device nodes
    /// under it work only with `devices` (`Mount::dev_bind`).
    Bind {
        source: PathBuf,
        readonly: bool,
        devices: bool,
    },
    Tmpfs {
        size: Option<u64>,
        mode: Option<u32>,
    },
    /// A fresh procfs for the sandbox's pid namespace.
    Proc,
    /// A minimal /dev: null, zero, full, random, urandom, tty, a new devpts with ptmx, and shm.
    Dev,
    /// A read-only sysfs.
    Sysfs,
    /// A POSIX message queue filesystem for the sandbox's IPC namespace.
    Mqueue,
    /// Hides what is at the target.
    Mask,
    /// Makes the mount at the target read-only.
    ReadOnly,
    /// Creates a device node or FIFO at the target.
    Node(DeviceNode),
}

impl Mount {
    /// Binds host path `source` (file or directory, with everything mounted below it) at
    /// `target`, writable. Device nodes under it cannot be opened (nodev); see
    /// [`Mount::dev_bind`].
    #[must_use]
    pub fn bind(source: impl AsRef<Path>, target: impl AsRef<Path>) -> Mount {
        Mount::bind_with(source, target, false, false)
    }

    /// Binds host path `source` at `target` read-only, submounts included (Linux 5.12+), nodev
    /// like [`Mount::bind`].
    #[must_use]
    pub fn bind_ro(source: impl AsRef<Path>, target: impl AsRef<Path>) -> Mount {
        Mount::bind_with(source, target, true, false)
    }

    /// Binds host path `source` at `target` writable with its device nodes usable: a loosening,
    /// for a device the program needs (`/dev/fuse`, `/dev/kvm`); the minimal set of
    /// [`Mount::dev`] needs none. Like bubblewrap's `--dev-bind`.
    #[must_use]
    pub fn dev_bind(source: impl AsRef<Path>, target: impl AsRef<Path>) -> Mount {
        Mount::bind_with(source, target, false, true)
    }

    fn bind_with(source: impl AsRef<Path>, target: impl AsRef<Path>, readonly: bool, devices: bool) -> Mount {
        let source = source.as_ref().to_path_buf();
        let kind = MountKind::Bind { source, readonly, devices };
        Mount::of(kind, target)
    }

    /// A fresh tmpfs at `target` (by default mode 0755 and the kernel's default size, half of RAM).
    #[must_use]
    pub fn tmpfs(target: impl AsRef<Path>) -> Mount {
        Mount::of(MountKind::Tmpfs { size: None, mode: None }, target)
    }

    /// A fresh procfs at `target`, showing the sandbox's own processes when it has a pid
    /// namespace.
    #[must_use]
    pub fn proc(target: impl AsRef<Path>) -> Mount {
        Mount::of(MountKind::Proc, target)
    }

    /// A minimal /dev at `target`: a tmpfs holding the host's null, zero, full, random, urandom
    /// and tty device nodes (bound, as mknod is not allowed in a user namespace), a new devpts
    /// instance at `pts` with `ptmx` pointing into it, a world-writable sticky `shm` directory
    /// (on the same tmpfs, for POSIX shared memory), and the `fd`, `stdin`, `stdout` and
    /// `stderr` links into /proc/self.
    #[must_use]
    pub fn dev(target: impl AsRef<Path>) -> Mount {
        Mount::of(MountKind::Dev, target)
    }

    /// A fresh **read-only** sysfs at `target` (sysfs allows no safe writable view). Its
    /// devices and networks are those of the sandbox's network namespace; mounting it needs
    /// one the sandbox owns (`Namespaces::NET`, or a joined one) or a root caller without a
    /// user namespace.
    #[must_use]
    pub fn sysfs(target: impl AsRef<Path>) -> Mount {
        Mount::of(MountKind::Sysfs, target)
    }

    /// A fresh mqueue filesystem at `target` (POSIX message queues), showing the queues of the
    /// sandbox's IPC namespace (`Namespaces::IPC`).
    #[must_use]
    pub fn mqueue(target: impl AsRef<Path>) -> Mount {
        Mount::of(MountKind::Mqueue, target)
    }

    /// Hides what is at `target` once the mounts given before this one are in place: a
    /// directory under an empty read-only directory, anything else under the host's /dev/null
    /// (read-only); nothing is created, and a target that does not exist is skipped. Links are
    /// resolved inside the sandbox's root. (An OCI config's `maskedPaths`.)
    #[must_use]
    pub fn mask(target: impl AsRef<Path>) -> Mount {
        Mount::of(MountKind::Mask, target)
    }

    /// Makes what is at `target` read-only, with every mount below it, once the mounts given
    /// before this one are in place; a target that does not exist is skipped. (An OCI
    /// config's `readonlyPaths`.)
    #[must_use]
    pub fn read_only(target: impl AsRef<Path>) -> Mount {
        Mount::of(MountKind::ReadOnly, target)
    }

    /// Programs on this bind or tmpfs cannot be executed (noexec). On any other kind
    /// `build()` fails.
    #[must_use]
    pub fn noexec(self) -> Mount {
        self.with_attr(crate::sys::mount_api::MOUNT_ATTR_NOEXEC, "noexec")
    }

    /// Set-user-ID and set-group-ID bits and file capabilities on this bind or tmpfs grant
    /// nothing (nosuid; a tmpfs is always nosuid). On any other kind `build()` fails.
    #[must_use]
    pub fn nosuid(self) -> Mount {
        self.with_attr(crate::sys::mount_api::MOUNT_ATTR_NOSUID, "nosuid")
    }

    /// The name the mount table shows as the source of this new filesystem (tmpfs, proc,
    /// sysfs, mqueue; by default its type, as `mount(8)` shows it): `"shm"` for a tmpfs at
    /// /dev/shm, say. On a bind, a mask or a read-only path `build()` fails; `Mount::dev`'s
    /// own filesystems keep their types.
    #[must_use]
    pub fn source_name(mut self, name: impl Into<String>) -> Mount {
        match self.kind {
            MountKind::Tmpfs { .. } | MountKind::Proc | MountKind::Sysfs | MountKind::Mqueue => {
                self.source_name = Some(name.into().into_boxed_str());
            }
            _ => self.misapplied = Some("source_name"),
        }
        self
    }

    /// Sets the propagation of this mount once it is in place, with `recursive` of every mount
    /// below it too (an OCI mount's `shared`, `rslave`...). On a mask or a read-only path
    /// `build()` fails.
    #[must_use]
    pub fn propagation(mut self, propagation: Propagation, recursive: bool) -> Mount {
        match self.kind {
            MountKind::Mask | MountKind::ReadOnly | MountKind::Node(_) => self.misapplied = Some("propagation"),
            _ => self.propagation = Some((propagation, recursive)),
        }
        self
    }

    fn with_attr(mut self, attr: u64, name: &'static str) -> Mount {
        match self.kind {
            MountKind::Bind { .. } | MountKind::Tmpfs { .. } => self.extra_attrs |= attr,
            _ => self.misapplied = Some(name),
        }
        self
    }

    fn of(kind: MountKind, target: impl AsRef<Path>) -> Mount {
        Mount {
            kind,
            target: target.as_ref().to_path_buf(),
            misapplied: None,
            extra_attrs: 0,
            source_name: None,
            propagation: None,
        }
    }

    /// Creates a device node or FIFO at `target` (an OCI config's `linux.devices`), its parent
    /// directories where missing. Every mount isobox makes is nodev, so a device node made
    /// there exists, with its numbers, mode and owner, but cannot be opened (EACCES): only
    /// [`Mount::dev_bind`] gives access to a device. A character or block device needs a root
    /// caller without a user namespace (CAP_MKNOD on the host); `build()` refuses one
    /// otherwise.
    #[must_use]
    pub fn device_node(target: impl AsRef<Path>, node: DeviceNode) -> Mount {
        Mount::of(MountKind::Node(node), target)
    }

    /// Limits a tmpfs to `bytes` (more than 0: tmpfs reads 0 as no limit, so `build()` refuses
    /// it). On any other kind `build()` fails.
    #[must_use]
    pub fn size(mut self, bytes: u64) -> Mount {
        match &mut self.kind {
            MountKind::Tmpfs { size, .. } => *size = Some(bytes),
            _ => self.misapplied = Some("size"),
        }
        self
    }

    /// Sets the permission bits of a tmpfs's root directory. On any other kind `build()` fails.
    #[must_use]
    pub fn mode(mut self, bits: u32) -> Mount {
        match &mut self.kind {
            MountKind::Tmpfs { mode, .. } => *mode = Some(bits),
            _ => self.misapplied = Some("mode"),
        }
        self
    }

    /// The mount point inside the sandbox.
    #[must_use]
    pub fn target(&self) -> &Path {
        &self.target
    }
}

impl fmt::Display for Mount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = self.target.display();
        match &self.kind {
            MountKind::Bind { source, readonly: true, .. } => {
                write!(f, "bind {} -> {target} (read-only)", source.display())
            }
            MountKind::Bind { source, readonly: false, devices: true } => {
                write!(f, "dev-bind {} -> {target}", source.display())
            }
            MountKind::Bind { source, readonly: false, devices: false } => {
                write!(f, "bind {} -> {target}", source.display())
            }
            MountKind::Tmpfs { .. } => write!(f, "tmpfs {target}"),
            MountKind::Proc => write!(f, "proc {target}"),
            MountKind::Dev => write!(f, "dev {target}"),
            MountKind::Sysfs => write!(f, "sysfs {target} (read-only)"),
            MountKind::Mqueue => write!(f, "mqueue {target}"),
            MountKind::Mask => write!(f, "mask {target}"),
            MountKind::ReadOnly => write!(f, "read-only {target}"),
            MountKind::Node(n) => write!(f, "node {target} ({:o} {}:{})", n.kind, n.major, n.minor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_and_mode_apply_to_tmpfs_only() {
        let t = Mount::tmpfs("/tmp").size(1 << 20).mode(0o1777);
        assert_eq!(t.kind, MountKind::Tmpfs { size: Some(1 << 20), mode: Some(0o1777) });
        let b = Mount::bind("/a", "/b").size(5);
        assert_eq!(b.kind, MountKind::Bind { source: "/a".into(), readonly: false, devices: false });
        assert_eq!(b.misapplied, Some("size"));
    }

    #[test]
    fn display_names_kind_source_and_target() {
        assert_eq!(Mount::bind_ro("/data", "/mnt").to_string(), "bind /data -> /mnt (read-only)");
        assert_eq!(Mount::proc("/proc").to_string(), "proc /proc");
    }
}
