//! A failed mount operation in words (**parent**): what it was part of, the operation in the
//! user's terms (targets inside the sandbox, sources on the host), and a hint.

use std::ffi::{CString, OsStr};
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use super::ops::{Fs, MountPart, Op};

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
    /// Setting a mount's propagation.
    Propagation {
        /// Which.
        target: PathBuf,
    },
    /// Mounting a read-only sysfs.
    Sysfs {
        /// Where.
        target: PathBuf,
    },
    /// Mounting an mqueue filesystem.
    Mqueue {
        /// Where.
        target: PathBuf,
    },
    /// Hiding a procfs entry (under the host's /dev/null, or an empty read-only tmpfs).
    Mask {
        /// Which.
        path: PathBuf,
    },
    /// pivot_root into the new root and detaching the old one.
    PivotRoot,
    /// Mounting the overlay root.
    Overlay,
    /// Passing one layer to the overlay.
    OverlayLayer {
        /// Its index, lowest first.
        index: usize,
        /// Its host path, as given.
        path: PathBuf,
    },
    /// Mounting the overlay's upper: a tmpfs (`path` is `None`), or a spawn's directory in `path`.
    OverlayUpper {
        /// The upper directory given (`Upper::Dir`).
        path: Option<PathBuf>,
    },
    /// One option or step of the overlay's mount.
    OverlayOption {
        /// Which.
        option: &'static str,
        /// The path it concerns, if any.
        path: Option<PathBuf>,
    },
}

impl MountAction {
    /// `op` in the user's terms.
    pub(crate) fn of(op: &Op) -> MountAction {
        let host = |c: &CString| PathBuf::from(OsStr::from_bytes(c.as_bytes()));
        let top = || PathBuf::from("/");
        match op {
            Op::MakePrivate => MountAction::MakePrivate,
            Op::RootTmpfs { .. } => MountAction::Tmpfs { target: top() },
            Op::RootBind { path } => MountAction::Bind { source: host(path), target: top() },
            Op::Fresh { fs: Fs::Tmpfs, target, .. } => MountAction::Tmpfs { target: target.shown() },
            Op::Fresh { fs: Fs::Proc, target, .. } => MountAction::Proc { target: target.shown() },
            Op::Fresh { fs: Fs::Devpts, target, .. } => MountAction::Devpts { target: target.shown() },
            Op::Fresh { fs: Fs::Sysfs, target, .. } => MountAction::Sysfs { target: target.shown() },
            Op::Fresh { fs: Fs::Mqueue, target, .. } => MountAction::Mqueue { target: target.shown() },
            Op::MaskPath { target } => MountAction::Mask { path: target.shown() },
            Op::ReadOnlyPath { target } => MountAction::ReadOnly { target: target.shown() },
            Op::Mknod { path, .. } => MountAction::CreateFile { path: path.shown() },
            Op::Propagate { target, .. } => MountAction::Propagation { target: target.shown() },
            Op::RootPropagation { .. } => MountAction::Propagation { target: PathBuf::from("/") },
            Op::Mkdir { path } => MountAction::Mkdir { path: path.shown() },
            Op::Touch { path } => MountAction::CreateFile { path: path.shown() },
            Op::Chmod { path, mode } => MountAction::Chmod { path: path.shown(), mode: *mode },
            Op::Symlink { target, link } => MountAction::Symlink { link: link.shown(), target: host(target) },
            Op::Bind { source, target, .. } => MountAction::Bind { source: host(source), target: target.shown() },
            Op::Mask { proc, name, .. } => MountAction::Mask { path: entry(proc, name) },
            Op::ReadOnlyEntry { proc, name } => MountAction::ReadOnly { target: entry(proc, name) },
            Op::ReadOnlyRoot { .. } => MountAction::ReadOnly { target: top() },
            Op::EnterNewRoot { .. } => MountAction::PivotRoot,
            Op::Overlay(_) => MountAction::Overlay,
        }
    }
}

fn entry(proc: &Path, name: &std::ffi::CStr) -> PathBuf {
    proc.join(OsStr::from_bytes(name.to_bytes()))
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
            MountAction::Sysfs { target } => write!(f, "sysfs on {} (read-only)", target.display()),
            MountAction::Propagation { target } => write!(f, "setting the propagation of {}", target.display()),
            MountAction::Mqueue { target } => write!(f, "mqueue on {}", target.display()),
            MountAction::Mask { path } => write!(f, "masking {}", path.display()),
            MountAction::PivotRoot => write!(f, "pivot_root into the new root"),
            MountAction::Overlay => write!(f, "overlay on /"),
            MountAction::OverlayLayer { index, path } => write!(f, "overlay layer #{index} {}", path.display()),
            MountAction::OverlayUpper { path: None } => write!(f, "overlay upper (tmpfs)"),
            MountAction::OverlayUpper { path: Some(path) } => write!(f, "overlay upper in {}", path.display()),
            MountAction::OverlayOption { option, path: None } => write!(f, "overlay option {option}"),
            MountAction::OverlayOption { option, path: Some(path) } => {
                write!(f, "overlay option {option} ({})", path.display())
            }
        }
    }
}

impl fmt::Display for MountPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MountPart::NewRoot => write!(f, "entering the new root"),
            MountPart::DefaultRoot => write!(f, "building the default root"),
            MountPart::Rootfs(path) => write!(f, "binding rootfs {}", path.display()),
            MountPart::OverlayRoot => write!(f, "root"),
            MountPart::UserMount { index, mount } => write!(f, "#{index} ({mount})"),
            MountPart::ReadOnlyRoot => write!(f, "making the root read-only"),
        }
    }
}

/// Why a mount operation failed, where the host is the likely cause.
pub(crate) fn hint(op: &Op, errno: Errno) -> Option<&'static str> {
    match (op, errno) {
        (_, Errno::ENOSYS) => Some("isobox builds the root with openat2, the new mount API and mount_setattr: Linux 5.12 or later"),
        (Op::Fresh { fs: Fs::Proc, .. }, Errno::EPERM) => Some(
            "mounting proc in a user namespace needs Namespaces::PID and a host /proc with nothing mounted over its entries",
        ),
        (_, Errno::EACCES) => Some(
            "the sandbox sets up as its own root, which is the caller on the host, or nobody (uid 65534) for a \
             root caller (UserMapping::Unprivileged): give that identity access to the path (or opt in to \
             UserMapping::Current); a security module (AppArmor, SELinux) may deny it too",
        ),
        (Op::Mask { .. } | Op::ReadOnlyEntry { .. }, Errno::ELOOP) => {
            Some("a procfs entry to mask is a symbolic link: isobox follows none there; mount proc at a plain directory")
        }
        (_, Errno::EXDEV) => Some("a path inside the new root leads out of it (a `..` or a link); isobox resolves inside only"),
        (Op::EnterNewRoot { .. }, Errno::EINVAL) => {
            Some("pivot_root fails when the host root is the initramfs (rootfs); boot with a real root filesystem")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mount::ops::InRoot;

    #[test]
    fn paths_are_shown_as_the_sandbox_sees_them() {
        let op = Op::Bind {
            source: c"/tmp/data".into(),
            target: InRoot::new(Path::new("/mnt")),
            readonly: false,
            devices: false,
            extra: 0,
        };
        let action = MountAction::of(&op);
        assert_eq!(action, MountAction::Bind { source: "/tmp/data".into(), target: "/mnt".into() });
        assert_eq!(action.to_string(), "bind /tmp/data -> /mnt");
        let mask = Op::Mask { proc: "/proc".into(), name: c"kcore", dir: false };
        assert_eq!(MountAction::of(&mask).to_string(), "masking /proc/kcore");
    }
}
