//! The mount plan: the user's root and mounts compiled into a flat list of operations
//! (**parent**; the child runs them in order, see `child::run_mount_plan`).
//!
//! In the child's private mount namespace the new root is built in place: a `rootfs` is bound
//! onto itself, the default root is a tmpfs mounted over a host directory that holds no bind
//! source (so no source is hidden). Mounts go below it, sources are read at their host paths,
//! and at the end the child pivots into it and detaches the host's root with everything below.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::error::ConfigError;
use crate::mount::{Mount, MountKind};
use crate::probe::{HostPath, Probe};

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

/// One operation the child performs. Paths are complete; nothing is computed in the child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    /// `mount --make-rprivate /`: nothing mounted from here on reaches the host.
    MakePrivate,
    Tmpfs {
        target: CString,
        data: CString,
    },
    /// mkdir; an existing directory is fine.
    Mkdir {
        path: CString,
    },
    /// chmod, for modes a umask would strip (like /dev/shm's sticky 1777).
    Chmod {
        path: CString,
        mode: u32,
    },
    /// Creates an empty file to bind a file onto; an existing one is fine.
    Touch {
        path: CString,
    },
    Symlink {
        target: CString,
        link: CString,
    },
    Bind {
        source: CString,
        target: CString,
    },
    /// mount_setattr(MOUNT_ATTR_RDONLY), recursive or not.
    ReadOnly {
        target: CString,
        recursive: bool,
    },
    Proc {
        target: CString,
    },
    Devpts {
        target: CString,
    },
    /// chdir(new_root); pivot_root(".", "."); detach the old root; chdir("/").
    EnterNewRoot {
        new_root: CString,
    },
}

/// What an operation is part of, so an error can name the user's mount rather than a
/// staging path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Making mounts private, and entering the new root.
    Root,
    DefaultRoot,
    Rootfs(PathBuf),
    UserMount {
        index: usize,
        mount: Mount,
    },
    ReadOnlyRoot,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedOp {
    pub op: Op,
    pub origin: Origin,
}

/// The compiled plan: where the new root is built, and the operations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MountPlan {
    /// The host path the new root is assembled at (the rootfs, or the default root's tmpfs).
    pub root: PathBuf,
    pub ops: Vec<PlannedOp>,
}

/// What the plan is built from (already validated: absolute paths, no NUL bytes).
pub(crate) struct PlanInput<'a> {
    /// Where the default root's tmpfs goes (see [`default_root_mount_point`]).
    pub default_root_at: &'a Path,
    pub rootfs: Option<&'a Path>,
    pub mounts: &'a [Mount],
    pub readonly_root: bool,
    /// The default root gets a /proc only when the sandbox has its own pid namespace.
    pub pid_namespace: bool,
}

/// Compiles the mount plan. `probe` answers what a host path is; it is a seam for tests.
pub(crate) fn build_plan(input: &PlanInput<'_>, probe: &dyn Probe) -> Result<MountPlan, ConfigError> {
    let root = input.rootfs.unwrap_or(input.default_root_at).to_path_buf();
    let mut plan = Plan { ops: Vec::new(), origin: Origin::Root, root };
    plan.push(Op::MakePrivate);
    match input.rootfs {
        Some(rootfs) => plan.rootfs(rootfs),
        None => plan.default_root(input.pid_namespace, probe),
    }
    for (index, mount) in input.mounts.iter().enumerate() {
        plan.user_mount(index, mount, probe)?;
    }
    if input.readonly_root {
        plan.origin = Origin::ReadOnlyRoot;
        plan.push(Op::ReadOnly { target: cpath(&plan.root), recursive: false });
    }
    plan.origin = Origin::Root;
    plan.push(Op::EnterNewRoot { new_root: cpath(&plan.root) });
    Ok(MountPlan { root: plan.root, ops: plan.ops })
}

/// The first candidate directory that exists and has no bind source at or below it, so the
/// default root's tmpfs hides none of them.
pub(crate) fn default_root_mount_point(mounts: &[Mount], is_dir: &dyn Fn(&Path) -> bool) -> Option<PathBuf> {
    let sources: Vec<&Path> = mounts
        .iter()
        .filter_map(|m| match &m.kind {
            MountKind::Bind { source, .. } => Some(source.as_path()),
            _ => None,
        })
        .collect();
    DEFAULT_ROOT_MOUNT_POINTS
        .iter()
        .map(Path::new)
        .find(|candidate| is_dir(candidate) && !sources.iter().any(|s| s.starts_with(candidate)))
        .map(Path::to_path_buf)
}

struct Plan {
    ops: Vec<PlannedOp>,
    origin: Origin,
    root: PathBuf,
}

impl Plan {
    /// A path inside the new root, as the child sees it before entering it.
    fn inside(&self, path: &Path) -> CString {
        cpath(&self.root.join(path.strip_prefix("/").unwrap_or(path)))
    }

    fn push(&mut self, op: Op) {
        self.ops.push(PlannedOp { op, origin: self.origin.clone() });
    }

    fn rootfs(&mut self, rootfs: &Path) {
        self.origin = Origin::Rootfs(rootfs.to_path_buf());
        self.push(Op::Bind { source: cpath(rootfs), target: cpath(rootfs) });
    }

    fn default_root(&mut self, pid_namespace: bool, probe: &dyn Probe) {
        self.origin = Origin::DefaultRoot;
        self.push(Op::Tmpfs { target: cpath(&self.root), data: c("mode=0755") });
        for dir in DEFAULT_ROOT_DIRS {
            match probe.probe(Path::new(dir), false) {
                HostPath::Symlink(to) => {
                    let link = self.inside(Path::new(dir));
                    self.push(Op::Symlink { target: cpath(&to), link })
                }
                HostPath::Dir => self.bind_dir(Path::new(dir), Path::new(dir), true),
                HostPath::File | HostPath::Missing => {}
            }
        }
        if pid_namespace {
            self.mount_proc(Path::new("/proc"));
        }
        self.mount_dev(Path::new("/dev"));
        self.mount_tmpfs(Path::new("/tmp"), "mode=1777".to_string());
    }

    fn user_mount(&mut self, index: usize, mount: &Mount, probe: &dyn Probe) -> Result<(), ConfigError> {
        self.origin = Origin::UserMount { index, mount: mount.clone() };
        self.mkdir_parents(&mount.target);
        match &mount.kind {
            MountKind::Bind { source, readonly } => match probe.probe(source, true) {
                HostPath::Dir => self.bind_dir(source, &mount.target, *readonly),
                HostPath::File => self.bind_file(source, &mount.target, *readonly),
                HostPath::Missing | HostPath::Symlink(_) => {
                    let err = std::io::Error::from_raw_os_error(libc::ENOENT);
                    return Err(ConfigError::Path { what: "bind source", path: source.clone(), source: err });
                }
            },
            MountKind::Tmpfs { size, mode } => self.mount_tmpfs(&mount.target, tmpfs_data(*size, *mode)),
            MountKind::Proc => self.mount_proc(&mount.target),
            MountKind::Dev => self.mount_dev(&mount.target),
        }
        Ok(())
    }

    fn mkdir_parents(&mut self, target: &Path) {
        let mut path = PathBuf::from("/");
        let parents: Vec<_> = target.components().filter(|c| matches!(c, Component::Normal(_))).collect();
        for part in parents.iter().take(parents.len().saturating_sub(1)) {
            path.push(part);
            self.push(Op::Mkdir { path: self.inside(&path) });
        }
    }

    fn bind_dir(&mut self, source: &Path, target: &Path, readonly: bool) {
        self.push(Op::Mkdir { path: self.inside(target) });
        self.bind(source, target, readonly);
    }

    fn bind_file(&mut self, source: &Path, target: &Path, readonly: bool) {
        self.push(Op::Touch { path: self.inside(target) });
        self.bind(source, target, readonly);
    }

    fn bind(&mut self, source: &Path, target: &Path, readonly: bool) {
        self.push(Op::Bind { source: cpath(source), target: self.inside(target) });
        if readonly {
            self.push(Op::ReadOnly { target: self.inside(target), recursive: true });
        }
    }

    fn mount_tmpfs(&mut self, target: &Path, data: String) {
        self.push(Op::Mkdir { path: self.inside(target) });
        self.push(Op::Tmpfs { target: self.inside(target), data: c(&data) });
    }

    fn mount_proc(&mut self, target: &Path) {
        self.push(Op::Mkdir { path: self.inside(target) });
        self.push(Op::Proc { target: self.inside(target) });
    }

    fn mount_dev(&mut self, target: &Path) {
        self.mount_tmpfs(target, "mode=0755".to_string());
        for node in DEV_NODES {
            self.bind_file(&Path::new("/dev").join(node), &target.join(node), false);
        }
        self.push(Op::Mkdir { path: self.inside(&target.join("pts")) });
        self.push(Op::Devpts { target: self.inside(&target.join("pts")) });
        for (name, to) in DEV_LINKS {
            self.push(Op::Symlink { target: c(to), link: self.inside(&target.join(name)) });
        }
        // A directory of /dev's own tmpfs serves POSIX shared memory as well as a mount would.
        let shm = self.inside(&target.join("shm"));
        self.push(Op::Mkdir { path: shm.clone() });
        self.push(Op::Chmod { path: shm, mode: 0o1777 });
    }
}

fn tmpfs_data(size: Option<u64>, mode: Option<u32>) -> String {
    let mut data = format!("mode={:04o}", mode.unwrap_or(0o755));
    if let Some(size) = size {
        data.push_str(&format!(",size={size}"));
    }
    data
}

fn cpath(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap_or_default()
}

/// Paths were checked for NUL bytes by validation; a NUL here is a bug, and yields an empty
/// path the kernel rejects rather than a panic.
fn c(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
