//! The operations of a mount plan, and the builder that emits them (**parent**: pure data;
//! the child runs them in order, see [`super::apply`]).
//!
//! Host paths (the new root's own mount point, bind sources) are used as given: they are the
//! caller's. Every path *inside* the new root is an [`InRoot`], which the child resolves
//! relative to the new root's descriptor with `RESOLVE_IN_ROOT`, so a symlink or `..` in an
//! untrusted rootfs or a bound directory cannot send a mkdir or a mount outside it.

use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use super::overlay::compiled::OverlayPlan;
use super::spec::Mount;

/// A path inside the new root, relative to it, with its parent and last component split out
/// for the `*at` calls that create it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InRoot {
    /// The whole path, relative to the new root ("usr/bin"; "." is the root itself).
    pub path: CString,
    /// Its parent directory, relative to the new root ("usr", or ".").
    pub parent: CString,
    /// Its last component ("bin").
    pub name: CString,
}

impl InRoot {
    /// `path` (absolute inside the sandbox, checked for `..` at build()) made relative.
    pub fn new(path: &Path) -> InRoot {
        let parts: Vec<&[u8]> = path
            .components()
            .filter_map(|c| match c {
                Component::Normal(part) => Some(part.as_bytes()),
                _ => None,
            })
            .collect();
        let join = |parts: &[&[u8]]| if parts.is_empty() { b".".to_vec() } else { parts.join(&b'/') };
        let (parent, name) = match parts.split_last() {
            Some((last, rest)) => (join(rest), last.to_vec()),
            None => (b".".to_vec(), b".".to_vec()),
        };
        InRoot { path: bytes(join(&parts)), parent: bytes(parent), name: bytes(name) }
    }

    /// The path as the sandbox sees it ("/usr/bin").
    pub fn shown(&self) -> PathBuf {
        let rel = std::ffi::OsStr::from_bytes(self.path.as_bytes());
        if rel == "." {
            PathBuf::from("/")
        } else {
            Path::new("/").join(rel)
        }
    }
}

/// A filesystem the child creates with fsopen(2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fs {
    Tmpfs,
    Proc,
    Devpts,
    Sysfs,
    Mqueue,
}

impl Fs {
    pub fn name(self) -> &'static CStr {
        match self {
            Fs::Tmpfs => c"tmpfs",
            Fs::Proc => c"proc",
            Fs::Devpts => c"devpts",
            Fs::Sysfs => c"sysfs",
            Fs::Mqueue => c"mqueue",
        }
    }
}

/// One operation the child performs. Paths are complete; nothing is computed in the child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    /// `mount --make-rprivate /`: nothing mounted from here on reaches the host.
    MakePrivate,
    /// The default root's tmpfs, mounted on its host mount point. Its mount's descriptor is
    /// the new root: every [`InRoot`] after this resolves in it.
    RootTmpfs {
        at: CString,
        options: Vec<(CString, CString)>,
    },
    /// A rootfs bound onto itself at its host path, its device nodes inert (nodev: an untrusted
    /// tree may carry any); the bind's descriptor is the new root.
    RootBind {
        path: CString,
    },
    /// An overlay root of read-only layers and an upper (`super::overlay`), attached at its
    /// staging host directory; the overlay's mount is the new root.
    Overlay(Box<OverlayPlan>),
    /// mkdir; an existing directory is fine.
    Mkdir {
        path: InRoot,
    },
    /// chmod, for modes a umask would strip (like /dev/shm's sticky 1777); no link followed.
    Chmod {
        path: InRoot,
        mode: u32,
    },
    /// Creates an empty file to bind a file onto; an existing one is fine.
    Touch {
        path: InRoot,
    },
    Symlink {
        target: CString,
        link: InRoot,
    },
    /// A recursive bind of a host path, read-only (every submount too) before it is attached,
    /// and nodev unless `devices` (a device node bound on purpose).
    Bind {
        source: CString,
        target: InRoot,
        readonly: bool,
        devices: bool,
        /// More `MOUNT_ATTR_*` bits (noexec, nosuid) asked for.
        extra: u64,
    },
    /// A new filesystem with these options and `MOUNT_ATTR_*` bits.
    Fresh {
        fs: Fs,
        target: InRoot,
        options: Vec<(CString, CString)>,
        attrs: u64,
    },
    /// Hides one entry of the procfs mounted last: files under the host's /dev/null,
    /// directories under an empty read-only tmpfs (`dir` is what the entry usually is; the
    /// other kind is handled too). No link is followed; a missing entry is skipped. `proc` is
    /// that procfs's target, for errors.
    Mask {
        proc: PathBuf,
        name: &'static CStr,
        dir: bool,
    },
    /// Hides whatever is at `target` in the new root as `Mask` hides a procfs entry (the
    /// user's [`Mount::mask`](crate::Mount::mask)); nothing there is skipped.
    MaskPath {
        target: InRoot,
    },
    /// Makes the mount at `target` in the new root read-only, bound onto itself with
    /// everything below (the user's [`Mount::read_only`](crate::Mount::read_only)); nothing
    /// there is skipped.
    ReadOnlyPath {
        target: InRoot,
    },
    /// mknodat under umask 0, then fchownat without following a link: a device node or FIFO
    /// (`mode` with its type).
    Mknod {
        path: InRoot,
        mode: u32,
        dev: u64,
        uid: u32,
        gid: u32,
    },
    /// Sets the propagation of the mount at `target` in the new root (`flag`: an MS_* kind).
    Propagate {
        target: InRoot,
        flag: u64,
        recursive: bool,
    },
    /// Sets the propagation of the new root's own mount, once entered (pivot_root refuses a
    /// shared new root).
    RootPropagation {
        flag: u64,
        recursive: bool,
    },
    /// Makes one entry of the procfs mounted last read-only (bound onto itself).
    ReadOnlyEntry {
        proc: PathBuf,
        name: &'static CStr,
    },
    /// mount_setattr(MOUNT_ATTR_RDONLY) on the new root's own mount, by its descriptor
    /// (`path`, its host path, is for errors).
    ReadOnlyRoot {
        path: CString,
    },
    /// fchdir(new root); pivot_root(".", "."); detach the old root; chdir("/") (`new_root`,
    /// its host path, is for errors).
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
    /// Mounting the overlay root (`SandboxBuilder::overlay_root`).
    OverlayRoot,
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

/// What is done to the entries of every procfs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Masks {
    /// Nothing (`masked_paths(false)`).
    Off,
    /// The masked entries; the read-only ones are left to the kernel's permission checks,
    /// which refuse every write of an identity that is not host root (see `super::masks`).
    Hidden,
    /// The masked entries, and the read-only ones bound read-only.
    HiddenAndReadOnly,
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
    /// Which of the procfs entries every procfs gets ([`super::masks`]).
    pub masks: Masks,
}

impl OpsBuilder {
    pub fn push(&mut self, op: Op) {
        self.ops.push(PlannedOp { op, part: self.part.clone() });
    }

    /// Creates each missing parent directory of `target`.
    pub fn mkdir_parents(&mut self, target: &Path) {
        let mut path = PathBuf::from("/");
        let parents: Vec<_> = target.components().filter(|c| matches!(c, Component::Normal(_))).collect();
        for part in parents.iter().take(parents.len().saturating_sub(1)) {
            path.push(part);
            self.push(Op::Mkdir { path: InRoot::new(&path) });
        }
    }

    pub fn bind_dir(&mut self, source: &Path, target: &Path, readonly: bool, devices: bool) {
        self.push(Op::Mkdir { path: InRoot::new(target) });
        self.push(Op::Bind { source: cpath(source), target: InRoot::new(target), readonly, devices, extra: 0 });
    }

    pub fn bind_file(&mut self, source: &Path, target: &Path, readonly: bool, devices: bool) {
        self.push(Op::Touch { path: InRoot::new(target) });
        self.push(Op::Bind { source: cpath(source), target: InRoot::new(target), readonly, devices, extra: 0 });
    }

    /// A tmpfs at `target` with `mode` and, if given, a size limit in bytes.
    pub fn mount_tmpfs(&mut self, target: &Path, mode: u32, size: Option<u64>) {
        let mut options = vec![(c("mode"), c(&format!("{mode:04o}")))];
        if let Some(size) = size {
            options.push((c("size"), c(&size.to_string())));
        }
        self.mkdir_and_mount(Fs::Tmpfs, target, options);
    }

    /// ORs `attrs` into the first bind or new filesystem from operation `start` on (a user's
    /// noexec or nosuid on the mount those operations make).
    pub fn add_attrs_from(&mut self, start: usize, attrs: u64) {
        let found =
            self.ops[start..].iter_mut().map(|p| &mut p.op).find(|op| matches!(op, Op::Bind { .. } | Op::Fresh { .. }));
        match found {
            Some(Op::Bind { extra, .. }) => *extra |= attrs,
            Some(Op::Fresh { attrs: now, .. }) => *now |= attrs,
            _ => {}
        }
    }

    /// Names the source of the first new filesystem from operation `start` on.
    pub fn name_source_from(&mut self, start: usize, name: &str) {
        if let Some(Op::Fresh { options, .. }) =
            self.ops[start..].iter_mut().map(|p| &mut p.op).find(|op| matches!(op, Op::Fresh { .. }))
        {
            options.insert(0, (c("source"), c(name)));
        }
    }

    /// A new filesystem of kind `fs` at `target`, without options.
    pub fn mount_fresh(&mut self, fs: Fs, target: &Path) {
        self.mkdir_and_mount(fs, target, Vec::new());
    }

    /// A procfs at `target` (its masks: [`super::masks::mount_proc`]).
    pub fn mount_proc(&mut self, target: &Path) {
        self.mkdir_and_mount(Fs::Proc, target, Vec::new());
    }

    /// A new devpts instance at `target` (its directory must exist).
    pub fn mount_devpts(&mut self, target: &Path) {
        let options = vec![(c("ptmxmode"), c("0666")), (c("mode"), c("0620"))];
        let attrs = Fs::Devpts.attrs();
        self.push(Op::Fresh { fs: Fs::Devpts, target: InRoot::new(target), options, attrs });
    }

    fn mkdir_and_mount(&mut self, fs: Fs, target: &Path, options: Vec<(CString, CString)>) {
        self.push(Op::Mkdir { path: InRoot::new(target) });
        self.push(Op::Fresh { fs, target: InRoot::new(target), options, attrs: fs.attrs() });
    }
}

impl Fs {
    /// What the sandbox may not do on it: run setuid programs anywhere, open devices on a
    /// tmpfs or procfs, run programs from procfs or devpts.
    pub fn attrs(self) -> u64 {
        use crate::sys::mount_api::{MOUNT_ATTR_NODEV, MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOSUID};
        match self {
            Fs::Tmpfs => MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
            Fs::Proc => MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
            Fs::Devpts => MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
            // Read-only: a writable sysfs reaches the host's devices and kernel settings.
            Fs::Sysfs => {
                MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | crate::sys::mount_api::MOUNT_ATTR_RDONLY
            }
            Fs::Mqueue => MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
        }
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

fn bytes(b: Vec<u8>) -> CString {
    CString::new(b).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_inside_are_relative_with_parent_and_name() {
        let p = InRoot::new(Path::new("/usr/lib/x"));
        assert_eq!((p.path.as_c_str(), p.parent.as_c_str(), p.name.as_c_str()), (c"usr/lib/x", c"usr/lib", c"x"));
        let top = InRoot::new(Path::new("/tmp"));
        assert_eq!((top.path.as_c_str(), top.parent.as_c_str(), top.name.as_c_str()), (c"tmp", c".", c"tmp"));
        assert_eq!(InRoot::new(Path::new("/")).path.as_c_str(), c".");
        assert_eq!(InRoot::new(Path::new("//a/./b/")).shown(), Path::new("/a/b"));
    }
}
