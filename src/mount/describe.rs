//! A failed mount operation in words (**parent**): what it was part of, the operation in the
//! user's terms (targets inside the sandbox, sources on the host), and a hint.

use std::ffi::{CString, OsStr};
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use super::ops::{MountPart, Op};

/// One operation of the mount plan, as a setup error names it: targets are paths inside the
/// sandbox, sources are host paths.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MountAction {
    /// Making every mount private.
    MakePrivate,
    /// Mounting a tmpfs.
    Tmpfs {
        /// Where.
        target: PathBuf,
    },
    /// Creating a directory.
    Mkdir {
        /// Which.
        path: PathBuf,
    },
    /// Creating an empty file to bind a file onto.
    CreateFile {
        /// Which.
        path: PathBuf,
    },
    /// Changing a directory's mode.
    Chmod {
        /// Which.
        path: PathBuf,
        /// To what.
        mode: u32,
    },
    /// Creating a symbolic link.
    Symlink {
        /// The link.
        link: PathBuf,
        /// What it points to.
        target: PathBuf,
    },
    /// A recursive bind mount.
    Bind {
        /// The host path.
        source: PathBuf,
        /// Where inside.
        target: PathBuf,
    },
    /// Making a mount (and, for binds, its submounts) read-only.
    ReadOnly {
        /// Which.
        target: PathBuf,
    },
    /// Mounting procfs.
    Proc {
        /// Where.
        target: PathBuf,
    },
    /// Mounting a new devpts instance.
    Devpts {
        /// Where.
        target: PathBuf,
    },
    /// pivot_root into the new root and detaching the old one.
    PivotRoot,
}

impl MountAction {
    /// `op` in the user's terms; `root` is where the new root was assembled.
    pub(crate) fn of(op: &Op, root: &Path) -> MountAction {
        let host = |c: &CString| PathBuf::from(OsStr::from_bytes(c.as_bytes()));
        let inside = |c: &CString| inside_path(&host(c), root);
        match op {
            Op::MakePrivate => MountAction::MakePrivate,
            Op::Tmpfs { target, .. } => MountAction::Tmpfs { target: inside(target) },
            Op::Mkdir { path } => MountAction::Mkdir { path: inside(path) },
            Op::Touch { path } => MountAction::CreateFile { path: inside(path) },
            Op::Chmod { path, mode } => MountAction::Chmod { path: inside(path), mode: *mode },
            Op::Symlink { target, link } => MountAction::Symlink { link: inside(link), target: host(target) },
            Op::Bind { source, target } => MountAction::Bind { source: host(source), target: inside(target) },
            Op::ReadOnly { target, .. } => MountAction::ReadOnly { target: inside(target) },
            Op::Proc { target } => MountAction::Proc { target: inside(target) },
            Op::Devpts { target } => MountAction::Devpts { target: inside(target) },
            Op::EnterNewRoot { .. } => MountAction::PivotRoot,
        }
    }
}

impl fmt::Display for MountAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MountAction::MakePrivate => write!(f, "making / private"),
            MountAction::Tmpfs { target } => write!(f, "tmpfs on {}", target.display()),
            MountAction::Mkdir { path } => write!(f, "mkdir {}", path.display()),
            MountAction::CreateFile { path } => write!(f, "creating file {}", path.display()),
            MountAction::Chmod { path, mode } => write!(f, "chmod {mode:o} {}", path.display()),
            MountAction::Symlink { link, target } => write!(f, "symlink {} -> {}", link.display(), target.display()),
            MountAction::Bind { source, target } => write!(f, "bind {} -> {}", source.display(), target.display()),
            MountAction::ReadOnly { target } => write!(f, "read-only {}", target.display()),
            MountAction::Proc { target } => write!(f, "proc on {}", target.display()),
            MountAction::Devpts { target } => write!(f, "devpts on {}", target.display()),
            MountAction::PivotRoot => write!(f, "pivot_root into the new root"),
        }
    }
}

impl fmt::Display for MountPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MountPart::NewRoot => write!(f, "entering the new root"),
            MountPart::DefaultRoot => write!(f, "building the default root"),
            MountPart::Rootfs(path) => write!(f, "binding rootfs {}", path.display()),
            MountPart::UserMount { index, mount } => write!(f, "#{index} ({mount})"),
            MountPart::ReadOnlyRoot => write!(f, "making the root read-only"),
        }
    }
}

/// A path under the new root as the sandbox will see it: `<root>/x` is `/x`.
fn inside_path(staged: &Path, root: &Path) -> PathBuf {
    match staged.strip_prefix(root) {
        Ok(rest) => Path::new("/").join(rest),
        Err(_) => staged.to_path_buf(),
    }
}

/// Why a mount operation failed, where the host is the likely cause.
pub(crate) fn hint(op: &Op, errno: Errno) -> Option<&'static str> {
    match (op, errno) {
        (Op::ReadOnly { .. }, Errno::ENOSYS) => Some("read-only mounts need mount_setattr(2), Linux 5.12 or later"),
        (Op::Proc { .. }, Errno::EPERM) => Some(
            "mounting proc in a user namespace needs Namespaces::PID and a host /proc with nothing mounted over its entries",
        ),
        (_, Errno::EACCES) => Some(
            "a security module (AppArmor, SELinux) or missing search permission on the path may deny this; \
             unprivileged callers cannot reach directories they could not reach outside",
        ),
        (Op::EnterNewRoot { .. }, Errno::EINVAL) => {
            Some("pivot_root fails when the host root is the initramfs (rootfs); boot with a real root filesystem")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shown_as_the_user_wrote_them() {
        let root = Path::new("/tmp");
        assert_eq!(inside_path(Path::new("/tmp/usr/x"), root), Path::new("/usr/x"));
        assert_eq!(inside_path(Path::new("/tmp"), root), Path::new("/"));
        assert_eq!(inside_path(Path::new("/elsewhere"), root), Path::new("/elsewhere"));
        let op = Op::Bind { source: c"/tmp/data".into(), target: c"/tmp/mnt".into() };
        let action = MountAction::of(&op, root);
        assert_eq!(action, MountAction::Bind { source: "/tmp/data".into(), target: "/mnt".into() });
        assert_eq!(action.to_string(), "bind /tmp/data -> /mnt");
    }
}
