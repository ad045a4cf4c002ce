//! The default root and the minimal /dev (**parent**, compiled into the mount plan): what a
//! sandbox with a mount namespace and no `rootfs` sees.

use std::path::{Path, PathBuf};

use super::ops::{c, cpath, InRoot, Op, OpsBuilder};
use super::probe::{HostPath, Probe};
use super::spec::{Mount, MountKind};

/// Host directories the default root's tmpfs may be mounted over, in order of preference.
pub(crate) const DEFAULT_ROOT_MOUNT_POINTS: [&str; 6] = ["/tmp", "/mnt", "/run", "/var/tmp", "/srv", "/opt"];

/// The host directories the default root shares read-only, in this order. A directory that
/// is a symlink on the host (merged /usr) is recreated as the same symlink.
pub const DEFAULT_ROOT_DIRS: [&str; 8] = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"];

const DEV_NODES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];
const DEV_LINKS: [(&str, &str); 5] = [
    ("ptmx", "pts/ptmx"),
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
];

/// The first candidate directory that exists and has no bind source at or below it, so the
/// default root's tmpfs hides none of them. Sources and candidates are compared resolved as
/// well as given ([`bind_sources`]): the child resolves a source after the tmpfs is mounted.
pub(crate) fn mount_point(mounts: &[Mount], is_dir: &dyn Fn(&Path) -> bool) -> Option<PathBuf> {
    let sources = bind_sources(mounts);
    DEFAULT_ROOT_MOUNT_POINTS
        .iter()
        .map(Path::new)
        .find(|candidate| {
            let resolved = std::fs::canonicalize(candidate).unwrap_or_else(|_| candidate.to_path_buf());
            is_dir(candidate) && !sources.iter().any(|s| s.starts_with(candidate) || s.starts_with(&resolved))
        })
        .map(Path::to_path_buf)
}

/// Every bind source as given and, where it differs, resolved (links followed: `/var/run/x`
/// is `/run/x` on many hosts): the child resolves a source on the host after the new root's
/// tmpfs or overlay sits on its staging directory, so neither may be hidden by it.
pub(crate) fn bind_sources(mounts: &[Mount]) -> Vec<PathBuf> {
    let mut sources = Vec::new();
    for m in mounts {
        if let MountKind::Bind { source, .. } = &m.kind {
            sources.push(source.clone());
            sources.extend(std::fs::canonicalize(source).ok().filter(|r| r != source));
        }
    }
    sources
}

/// A tmpfs at the root holding the host's system directories, /proc (with a pid namespace),
/// /dev and an empty /tmp.
pub(crate) fn build(b: &mut OpsBuilder, pid_namespace: bool, probe: &dyn Probe) {
    b.push(Op::RootTmpfs { at: cpath(&b.root), options: vec![(c("mode"), c("0755"))] });
    for dir in DEFAULT_ROOT_DIRS {
        match probe.probe(Path::new(dir), false) {
            HostPath::Symlink(to) => {
                let link = InRoot::new(Path::new(dir));
                b.push(Op::Symlink { target: cpath(&to), link })
            }
            HostPath::Dir => b.bind_dir(Path::new(dir), Path::new(dir), true, false),
            HostPath::File | HostPath::Missing => {}
        }
    }
    if pid_namespace {
        super::masks::mount_proc(b, Path::new("/proc"));
    }
    dev(b, Path::new("/dev"));
    b.mount_tmpfs(Path::new("/tmp"), 0o1777, None);
}

/// A minimal /dev at `target` (see `Mount::dev`).
pub(crate) fn dev(b: &mut OpsBuilder, target: &Path) {
    b.mount_tmpfs(target, 0o755, None);
    for node in DEV_NODES {
        // Read-only: the node works, but where an id inside is host root it cannot chmod or
        // chown the host's own device inode.
        b.bind_file(&Path::new("/dev").join(node), &target.join(node), true, true);
    }
    b.push(Op::Mkdir { path: InRoot::new(&target.join("pts")) });
    b.mount_devpts(&target.join("pts"));
    for (name, to) in DEV_LINKS {
        b.push(Op::Symlink { target: c(to), link: InRoot::new(&target.join(name)) });
    }
    // A directory of /dev's own tmpfs serves POSIX shared memory as well as a mount would.
    let shm = InRoot::new(&target.join("shm"));
    b.push(Op::Mkdir { path: shm.clone() });
    b.push(Op::Chmod { path: shm, mode: 0o1777 });
}
