//! The mount plan: the user's root and mounts compiled into a flat list of operations
//! (**parent**; the child runs them in order, see `child::run_mount_plan`).
//!
//! The child mounts a staging tmpfs over a host directory (normally /tmp) and pivots into it,
//! so the host root sits at `/oldroot` and the new root is built at `/newroot`. Bind sources
//! are then read through `/oldroot`, where nothing the plan mounts can hide them (a source
//! under the host's /tmp stays reachable). At the end the child pivots into `/newroot` and
//! detaches the staging root with the host's root below it.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::error::ConfigError;
use crate::mount::{Mount, MountKind};
use crate::probe::{HostPath, Probe};

pub(crate) const NEW_ROOT: &str = "/newroot";
pub(crate) const OLD_ROOT: &str = "/oldroot";

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
    /// pivot_root(new_root, put_old) into the staging tmpfs.
    PivotToStaging {
        new_root: CString,
        put_old: CString,
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
    Staging,
    DefaultRoot,
    Rootfs(PathBuf),
    UserMount { index: usize, mount: Mount },
    ReadOnlyRoot,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedOp {
    pub op: Op,
    pub origin: Origin,
}

/// What the plan is built from (already validated: absolute paths, no NUL bytes).
pub(crate) struct PlanInput<'a> {
    pub staging: &'a Path,
    pub rootfs: Option<&'a Path>,
    pub mounts: &'a [Mount],
    pub readonly_root: bool,
    /// The default root gets a /proc only when the sandbox has its own pid namespace.
    pub pid_namespace: bool,
}

/// Compiles the mount plan. `probe` answers what a host path is; it is a seam for tests.
pub(crate) fn build_plan(input: &PlanInput<'_>, probe: &dyn Probe) -> Result<Vec<PlannedOp>, ConfigError> {
    let mut plan = Plan::default();
    plan.staging(input.staging);
    match input.rootfs {
        Some(rootfs) => plan.rootfs(rootfs),
        None => plan.default_root(input.pid_namespace, probe),
    }
    for (index, mount) in input.mounts.iter().enumerate() {
        plan.user_mount(index, mount, probe)?;
    }
    if input.readonly_root {
        plan.origin = Origin::ReadOnlyRoot;
        plan.push(Op::ReadOnly { target: c(NEW_ROOT), recursive: false });
    }
    plan.origin = Origin::Staging;
    plan.push(Op::EnterNewRoot { new_root: c(NEW_ROOT) });
    Ok(plan.ops)
}

struct Plan {
    ops: Vec<PlannedOp>,
    origin: Origin,
}

impl Default for Plan {
    fn default() -> Self {
        Plan { ops: Vec::new(), origin: Origin::Staging }
    }
}

impl Plan {
    fn push(&mut self, op: Op) {
        self.ops.push(PlannedOp { op, origin: self.origin.clone() });
    }

    fn staging(&mut self, staging: &Path) {
        self.push(Op::MakePrivate);
        self.push(Op::Tmpfs { target: cpath(staging), data: c("mode=0755") });
        self.push(Op::Mkdir { path: cpath(&staging.join(&NEW_ROOT[1..])) });
        self.push(Op::Mkdir { path: cpath(&staging.join(&OLD_ROOT[1..])) });
        let put_old = cpath(&staging.join(&OLD_ROOT[1..]));
        self.push(Op::PivotToStaging { new_root: cpath(staging), put_old });
    }

    fn rootfs(&mut self, rootfs: &Path) {
        self.origin = Origin::Rootfs(rootfs.to_path_buf());
        self.push(Op::Bind { source: host(rootfs), target: c(NEW_ROOT) });
    }

    fn default_root(&mut self, pid_namespace: bool, probe: &dyn Probe) {
        self.origin = Origin::DefaultRoot;
        self.push(Op::Tmpfs { target: c(NEW_ROOT), data: c("mode=0755") });
        for dir in DEFAULT_ROOT_DIRS {
            match probe.probe(Path::new(dir), false) {
                HostPath::Symlink(to) => self.push(Op::Symlink { target: cpath(&to), link: inside(Path::new(dir)) }),
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
            self.push(Op::Mkdir { path: inside(&path) });
        }
    }

    fn bind_dir(&mut self, source: &Path, target: &Path, readonly: bool) {
        self.push(Op::Mkdir { path: inside(target) });
        self.bind(source, target, readonly);
    }

    fn bind_file(&mut self, source: &Path, target: &Path, readonly: bool) {
        self.push(Op::Touch { path: inside(target) });
        self.bind(source, target, readonly);
    }

    fn bind(&mut self, source: &Path, target: &Path, readonly: bool) {
        self.push(Op::Bind { source: host(source), target: inside(target) });
        if readonly {
            self.push(Op::ReadOnly { target: inside(target), recursive: true });
        }
    }

    fn mount_tmpfs(&mut self, target: &Path, data: String) {
        self.push(Op::Mkdir { path: inside(target) });
        self.push(Op::Tmpfs { target: inside(target), data: c(&data) });
    }

    fn mount_proc(&mut self, target: &Path) {
        self.push(Op::Mkdir { path: inside(target) });
        self.push(Op::Proc { target: inside(target) });
    }

    fn mount_dev(&mut self, target: &Path) {
        self.mount_tmpfs(target, "mode=0755".to_string());
        for node in DEV_NODES {
            self.bind_file(&Path::new("/dev").join(node), &target.join(node), false);
        }
        self.push(Op::Mkdir { path: inside(&target.join("pts")) });
        self.push(Op::Devpts { target: inside(&target.join("pts")) });
        for (name, to) in DEV_LINKS {
            self.push(Op::Symlink { target: c(to), link: inside(&target.join(name)) });
        }
        self.mount_tmpfs(&target.join("shm"), "mode=1777".to_string());
    }
}

fn tmpfs_data(size: Option<u64>, mode: Option<u32>) -> String {
    let mut data = format!("mode={:04o}", mode.unwrap_or(0o755));
    if let Some(size) = size {
        data.push_str(&format!(",size={size}"));
    }
    data
}

/// A path inside the new root, as the child sees it before the final pivot.
fn inside(path: &Path) -> CString {
    cpath(&Path::new(NEW_ROOT).join(path.strip_prefix("/").unwrap_or(path)))
}

/// A host path, as the child sees it through the old root.
fn host(path: &Path) -> CString {
    cpath(&Path::new(OLD_ROOT).join(path.strip_prefix("/").unwrap_or(path)))
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
