//! A spawn's own upper directory for [`Upper::Dir`](super::spec::Upper::Dir) (**parent**, per
//! spawn): `<dir>/<pid>-<n>/upper` and `work`, owned by the sandbox's root on the host, removed
//! with the `Child` unless kept.

use std::ffi::{CStr, CString};
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::compiled::UpperPlan;
use super::error::OverlayError;
use crate::error::ConfigError;
use crate::mount::ops::{cpath, Op};
use crate::mount::plan::MountPlan;

/// One spawn's upper and work directories, in a directory of their own.
#[derive(Debug)]
pub(crate) struct SpawnUpper {
    /// `<dir>/<pid>-<n>`, the spawn's own.
    dir: PathBuf,
    dir_c: CString,
    keep: bool,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

impl SpawnUpper {
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
        let dir = make_own(parent).map_err(failed(parent))?;
        let upper = SpawnUpper { dir_c: cpath(&dir), dir, keep: *keep };
        for (name, mode) in [("upper", 0o755), ("work", 0o700)] {
            let path = upper.dir.join(name);
            std::fs::DirBuilder::new().mode(mode).create(&path).map_err(failed(&path))?;
            chown(&path, owner).map_err(failed(&path))?;
        }
        chown(&upper.dir, owner).map_err(failed(&upper.dir))?;
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

    /// Whether it stays on the host after the sandbox.
    pub fn keep(&self) -> bool {
        self.keep
    }
}

/// A new directory of this spawn's in `parent`, 0700; a name taken by another is skipped.
fn make_own(parent: &Path) -> io::Result<PathBuf> {
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = parent.join(format!("{}-{n}", std::process::id()));
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
    /// Removes the spawn's directory unless kept. Best effort: a drop cannot fail.
    fn drop(&mut self) {
        if !self.keep {
            let _ = remove_tree(&self.dir);
        }
    }
}

/// Removes `dir` and everything in it; directories the sandbox left without permissions (and
/// overlayfs's own `work/work`, mode 0) are opened up first where the caller owns them.
pub(crate) fn remove_tree(dir: &Path) -> io::Result<()> {
    if std::fs::remove_dir_all(dir).is_ok() {
        return Ok(());
    }
    open_up(dir);
    std::fs::remove_dir_all(dir)
}

/// Gives every directory under `dir` (no link followed) rwx to its owner.
fn open_up(dir: &Path) {
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            open_up(&entry.path());
        }
    }
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
    fn a_tree_without_permissions_is_removed() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("spawn");
        std::fs::create_dir_all(dir.join("work/work/deep")).unwrap();
        std::fs::write(dir.join("work/work/deep/f"), b"x").unwrap();
        for d in ["work/work/deep", "work/work"] {
            std::fs::set_permissions(dir.join(d), std::fs::Permissions::from_mode(0o000)).unwrap();
        }
        remove_tree(&dir).unwrap();
        assert!(!dir.exists());
    }
}
