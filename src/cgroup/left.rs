//! A detached sandbox's cgroup, ended by another process than the one that made it
//! (**parent**): `Detached::remove_cgroups` with directories read back from a state file, so
//! each is checked first. Only a leaf cgroup below a hierarchy's mount point is killed and
//! removed, never a hierarchy's root, the caller's own cgroup or one of its ancestors; the
//! parents made for it are removed only where empty and as deep.

use std::io;
use std::path::{Component, Path, PathBuf};

use super::error::{remove_error, CgroupError};
use super::fs;
use super::group::{kill_listed, removed_now};
use super::layout::{dir_of, Layout};

/// Kills every process left in each of `dirs` (cgroup.kill on v2) and removes them, retrying
/// while busy. A missing one is fine; one that is not a leaf sandbox cgroup is refused before
/// anything is done to it.
pub(crate) fn remove(dirs: &[PathBuf]) -> Result<(), CgroupError> {
    let guard = Guard::read();
    for dir in dirs {
        if !dir.exists() {
            continue;
        }
        guard
            .check(dir, true)
            .map_err(|why| remove_error(dir.clone(), io::Error::new(io::ErrorKind::InvalidInput, why)))?;
        if removed_now(dir) {
            continue;
        }
        if fs::write_file(&dir.join("cgroup.kill"), "1").is_err() {
            kill_listed(dir);
        }
        fs::remove_dir(dir, || kill_listed(dir)).map_err(|source| remove_error(dir.clone(), source))?;
    }
    Ok(())
}

/// rmdir of each of `made` (topmost first within each hierarchy), deepest first, where
/// empty; one that fails the checks stays.
pub(crate) fn remove_empty_parents(made: &[PathBuf]) {
    let guard = Guard::read();
    for dir in made.iter().rev() {
        if guard.check(dir, false).is_ok() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// What must never be removed: each hierarchy's mount point, and the caller's own cgroup
/// with its ancestors, in each hierarchy.
struct Guard {
    mounts: Vec<PathBuf>,
    own: Vec<PathBuf>,
}

impl Guard {
    fn read() -> Guard {
        let layout =
            Layout::detect().unwrap_or(Layout { unified: None, unified_controllers: Vec::new(), v1: Vec::new() });
        let hierarchies: Vec<_> = layout.unified.iter().chain(&layout.v1).collect();
        let own_cgroups = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let own = own_cgroups
            .lines()
            .filter_map(|l| l.splitn(3, ':').nth(2))
            .flat_map(|cg| hierarchies.iter().map(move |h| dir_of(h, Path::new(cg))))
            .collect();
        Guard { mounts: hierarchies.iter().map(|h| h.mount.clone()).collect(), own }
    }

    /// `Err` says why `dir` may not be removed. `leaf`: it must hold no cgroup of its own.
    fn check(&self, dir: &Path, leaf: bool) -> Result<(), &'static str> {
        if !dir.components().all(|c| matches!(c, Component::RootDir | Component::Normal(_))) {
            return Err("not a plain absolute path");
        }
        if !self.mounts.iter().any(|m| dir.starts_with(m) && dir != m) {
            return Err("not a cgroup below a hierarchy's root");
        }
        if self.own.iter().any(|own| own.starts_with(dir)) {
            return Err("the caller's own cgroup, or one of its ancestors");
        }
        if !dir.join("cgroup.procs").is_file() {
            return Err("not a cgroup directory");
        }
        if leaf && has_child_cgroup(dir) {
            return Err("it holds cgroups of its own: not a sandbox's");
        }
        Ok(())
    }
}

fn has_child_cgroup(dir: &Path) -> bool {
    std::fs::read_dir(dir).into_iter().flatten().flatten().any(|e| e.file_type().is_ok_and(|t| t.is_dir()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        let mounts = vec![PathBuf::from("/sys/fs/cgroup/memory"), PathBuf::from("/sys/fs/cgroup/unified")];
        Guard { mounts, own: vec![PathBuf::from("/sys/fs/cgroup/memory/process_api/abc")] }
    }

    #[test]
    fn roots_the_callers_cgroup_and_its_ancestors_are_never_removed() {
        let g = guard();
        for bad in [
            "/sys/fs/cgroup/memory",
            "/sys/fs/cgroup",
            "/sys/fs/cgroup/memory/process_api",
            "/sys/fs/cgroup/memory/process_api/abc",
            "/sys/fs/cgroup/memory/x/../process_api",
            "/tmp/empty",
            "relative/dir",
        ] {
            assert!(g.check(Path::new(bad), true).is_err(), "{bad}");
        }
    }
}
