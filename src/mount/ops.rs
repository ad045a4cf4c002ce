//! The operations of a mount plan, and the builder that emits them (**parent**: pure data;
//! the child runs them in order, see [`super::apply`]).

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use super::spec::Mount;

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

/// What part of the sandbox's root a mount operation builds, so that an error names the
/// user's mount rather than a staging path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MountPart {
    /// Making every mount private (so nothing reaches the host), and entering the new root.
    NewRoot,
    /// The default root: a tmpfs with the host's system directories, /proc, /dev and /tmp.
    DefaultRoot,
    /// Binding the `rootfs` directory onto itself.
    Rootfs(PathBuf),
    /// One of the user's mounts.
    UserMount {
        /// Its index among the builder's mounts.
        index: usize,
        /// The mount.
        mount: Mount,
    },
    /// Making the root read-only.
    ReadOnlyRoot,
}

/// One operation and what it is part of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedOp {
    pub op: Op,
    pub part: MountPart,
}

/// Emits operations for paths inside the new root, tagged with the part being built.
pub(crate) struct OpsBuilder {
    pub ops: Vec<PlannedOp>,
    pub part: MountPart,
    /// The host path the new root is assembled at.
    pub root: PathBuf,
}

impl OpsBuilder {
    /// A path inside the new root, as the child sees it before entering it.
    pub fn inside(&self, path: &Path) -> CString {
        cpath(&self.root.join(path.strip_prefix("/").unwrap_or(path)))
    }

    pub fn push(&mut self, op: Op) {
        self.ops.push(PlannedOp { op, part: self.part.clone() });
    }

    /// Creates each missing parent directory of `target`.
    pub fn mkdir_parents(&mut self, target: &Path) {
        let mut path = PathBuf::from("/");
        let parents: Vec<_> = target.components().filter(|c| matches!(c, Component::Normal(_))).collect();
        for part in parents.iter().take(parents.len().saturating_sub(1)) {
            path.push(part);
            self.push(Op::Mkdir { path: self.inside(&path) });
        }
    }

    pub fn bind_dir(&mut self, source: &Path, target: &Path, readonly: bool) {
        self.push(Op::Mkdir { path: self.inside(target) });
        self.bind(source, target, readonly);
    }

    pub fn bind_file(&mut self, source: &Path, target: &Path, readonly: bool) {
        self.push(Op::Touch { path: self.inside(target) });
        self.bind(source, target, readonly);
    }

    fn bind(&mut self, source: &Path, target: &Path, readonly: bool) {
        self.push(Op::Bind { source: cpath(source), target: self.inside(target) });
        if readonly {
            self.push(Op::ReadOnly { target: self.inside(target), recursive: true });
        }
    }

    pub fn mount_tmpfs(&mut self, target: &Path, data: String) {
        self.push(Op::Mkdir { path: self.inside(target) });
        self.push(Op::Tmpfs { target: self.inside(target), data: c(&data) });
    }

    pub fn mount_proc(&mut self, target: &Path) {
        self.push(Op::Mkdir { path: self.inside(target) });
        self.push(Op::Proc { target: self.inside(target) });
    }
}

/// A host path as a C string. Paths were checked for NUL bytes at `build()`; a NUL here is a
/// bug, and yields an empty path the kernel rejects rather than a panic.
pub(crate) fn cpath(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap_or_default()
}

/// A constant string as a C string (see [`cpath`] on NUL bytes).
pub(crate) fn c(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}
