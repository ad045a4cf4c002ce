//! A spawn's own upper directory for [`Upper::Dir`](super::spec::Upper::Dir) (**parent**, per
//! spawn): `<dir>/<name>/upper` and `work`, owned by the sandbox's root on the host, in a
//! directory `<name>` that stays the caller's (mode 0711), so that no sandbox can rename or
//! replace them before a later spawn's child mounts them by path. Removed with the `Child`
//! unless kept, by descriptor only ([`super::remove`]).
//!
//! A kept one is `<pid>-<n>`; a throwaway one `tmp-<pid>-<start>-<n>` (the creator's pid and
//! start time), which [`super::sweep`] removes once its creator is gone (killed before it
//! could remove it).

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::compiled::UpperPlan;
use super::error::OverlayError;
use crate::error::ConfigError;
use crate::mount::ops::{cpath, Op};
use crate::mount::plan::MountPlan;
use crate::namespaces::Namespaces;

/// One spawn's upper and work directories, in a directory of their own.
#[derive(Debug)]
pub(crate) struct SpawnUpper {
    /// `<dir>/<name>`, the spawn's own.
    dir: PathBuf,
    dir_c: CString,
    keep: bool,
    /// Removed already (after the wait): nothing left for the drop.
    removed: bool,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

impl SpawnUpper {
    /// Whether each spawn of `plan` gets a directory upper of its own (which its `wait`
    /// removes once the sandbox is gone).
    pub fn wanted(plan: &MountPlan) -> bool {
        plan.ops.iter().any(|p| matches!(&p.op, Op::Overlay(o) if matches!(o.upper, UpperPlan::Dir { .. })))
    }

    /// Makes the spawn's directories if `plan` has an overlay root with a directory upper.
    /// `owner`: the sandbox's root on the host, when it is not the caller (a root caller's
    /// sandbox in a user namespace), so that the overlay, mounted as it, can write there.
    pub fn for_spawn(plan: &MountPlan, owner: Option<(u32, u32)>) -> Result<Option<SpawnUpper>, ConfigError> {
        let Some(UpperPlan::Dir { parent, keep }) = plan.ops.iter().find_map(|p| match &p.op {
            Op::Overlay(overlay) => Some(&overlay.upper),
            _ => None,
        }) else {
            return Ok(None);
        };
        let dir = make_own(parent, *keep).map_err(failed(parent))?;
        let upper = SpawnUpper { dir_c: cpath(&dir), dir, keep: *keep, removed: false };
        // The caller's, searchable by the sandbox's root: only `upper` and `work` are its.
        std::fs::set_permissions(&upper.dir, std::fs::Permissions::from_mode(0o711)).map_err(failed(&upper.dir))?;
        for (name, mode) in [("upper", 0o755), ("work", 0o700)] {
            let path = upper.dir.join(name);
            std::fs::DirBuilder::new().mode(mode).create(&path).map_err(failed(&path))?;
            chown(&path, owner).map_err(failed(&path))?;
        }
        Ok(Some(upper))
    }

    /// The spawn's directory as the child binds it.
    pub fn child_path(&self) -> &CStr {
        &self.dir_c
    }

    /// The upper directory: what the sandbox changed.
    pub fn upper(&self) -> PathBuf {
        self.dir.join("upper")
    }

    /// Whether the directory is kept after the sandbox.
    pub fn kept(&self) -> bool {
        self.keep
    }

    /// Removes the spawn's directory now unless kept (once the sandbox is gone); true if it is
    /// gone. A failure leaves it named, and the drop tries again.
    pub fn remove(&mut self) -> bool {
        if !self.keep && !self.removed {
            self.removed = remove_spawn_dir(&self.dir).is_ok();
        }
        self.removed
    }
}

/// A new directory of this spawn's in `parent`, 0700; a name taken by another is skipped.
fn make_own(parent: &Path, keep: bool) -> io::Result<PathBuf> {
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = parent.join(super::sweep::spawn_dir_name(keep, n));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            other => return other.map(|()| dir),
        }
    }
}

fn failed(path: &Path) -> impl FnOnce(io::Error) -> OverlayError + '_ {
    move |source| OverlayError::UpperDir { path: path.to_path_buf(), source }
}

fn chown(path: &Path, owner: Option<(u32, u32)>) -> io::Result<()> {
    match owner {
        Some((uid, gid)) => std::os::unix::fs::lchown(path, Some(uid), Some(gid)),
        None => Ok(()),
    }
}

impl Drop for SpawnUpper {
    /// Removes the spawn's directory unless kept or removed. Best effort: a drop cannot fail.
    fn drop(&mut self) {
        self.remove();
    }
}

/// Removes the spawn's directory `dir` (`<parent>/<name>`, the parent the caller's) and
/// everything in it, by descriptor below `parent`.
pub(crate) fn remove_spawn_dir(dir: &Path) -> io::Result<()> {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    };
    let name = CString::new(name.as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let parent = std::fs::File::open(parent)?;
    super::remove::remove_tree_at(parent.as_fd(), &name)
}

/// At `build()`, for an overlay root with a directory upper: a throwaway one is removed after
/// the wait, which must find nothing of the sandbox still running (that could still write
/// there, or swap an entry for a link to a host path): the sandbox needs a PID namespace (its
/// processes end with its first) or a cgroup (killed whole after the wait). Then the throwaway
/// spawn directories of isobox processes that died without removing them are removed.
pub(crate) fn at_build(plan: &MountPlan, ns: Namespaces, cgroup: bool) -> Result<(), ConfigError> {
    let Some(UpperPlan::Dir { parent, keep }) = plan.overlay().map(|o| &o.upper) else {
        return Ok(());
    };
    if !keep && !cgroup && !ns.contains(Namespaces::PID) {
        return Err(OverlayError::ThrowawayUpperUncontained.into());
    }
    super::sweep::sweep(parent);
    Ok(())
}

/// The sandbox's root on the host when a root caller's sandbox has a user namespace (and so
/// sets up as another identity); `None` otherwise (the caller, or host root, sets up).
pub(crate) fn owner(maps: Option<&crate::user::plan::IdMaps>, caller_is_root: bool) -> Option<(u32, u32)> {
    let maps = maps.filter(|_| caller_is_root)?;
    let root = |ranges: &[crate::user::spec::IdRange]| ranges.iter().find(|r| r.inside == 0).map(|r| r.outside);
    Some((root(&maps.uids)?, root(&maps.gids)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spawn_dir_without_permissions_is_removed() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("spawn");
        std::fs::create_dir_all(dir.join("work/work/deep")).unwrap();
        std::fs::write(dir.join("work/work/deep/f"), b"x").unwrap();
        for d in ["work/work/deep", "work/work"] {
            std::fs::set_permissions(dir.join(d), std::fs::Permissions::from_mode(0o000)).unwrap();
        }
        remove_spawn_dir(&dir).unwrap();
        assert!(!dir.exists());
    }
}
