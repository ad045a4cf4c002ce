//! The parents of sandbox cgroups (**parent**): created when missing, given the controllers on
//! v2, and swept of cgroups left behind (once per parent and process: `hold` decides when).

use std::io;
use std::path::{Path, PathBuf};

use super::controller::Controller;
use super::dir::Version;
use super::error::{create_error, CgroupError};
use super::fs;

/// Removes the empty cgroups left by isobox processes that died without cleaning up (killed
/// with SIGKILL, say). Names are `isobox-<pid>-<n>`; a cgroup whose creator is alive, or that
/// still holds processes, is left alone.
pub(crate) fn sweep(parent: &Path) {
    for entry in std::fs::read_dir(parent).into_iter().flatten().flatten() {
        let name = entry.file_name();
        if let Some(pid) = stale_owner(&name.to_string_lossy()) {
            if nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) == Err(nix::errno::Errno::ESRCH) {
                let _ = std::fs::remove_dir(entry.path());
            }
        }
    }
}

/// The creator's pid in a sandbox cgroup's name, unless it is this process.
fn stale_owner(name: &str) -> Option<i32> {
    let pid: i32 = name.strip_prefix("isobox-")?.split('-').next()?.parse().ok()?;
    (pid != std::process::id() as i32).then_some(pid)
}

/// Makes sure the parent exists and, on v2, hands the controllers down to its children: the
/// `required` ones, and those of `optional` that the parent is offered (see
/// [`offered_optional`]). Each directory it makes is added to `made`, topmost first.
pub(crate) fn prepare_parent(
    parent: &Path,
    version: Version,
    required: &[Controller],
    optional: &[Controller],
    made: &mut Vec<PathBuf>,
) -> Result<(), CgroupError> {
    let optional = match version {
        Version::V2 => offered_optional(parent, optional),
        Version::V1 => Vec::new(),
    };
    if !parent.is_dir() {
        create_ancestors(parent, version, made)?;
    }
    if version == Version::V2 {
        let controllers: Vec<Controller> = required.iter().chain(&optional).copied().collect();
        enable_v2_controllers(parent, &controllers)?;
    }
    Ok(())
}

/// The controllers of `optional` (read for the figures only) that `parent` can hand down
/// without isobox turning anything on above it: those in the `cgroup.controllers` of the
/// parent, or of its nearest existing ancestor when the parent is still to be made. On a
/// delegated subtree that is what the delegation offers, not what the hierarchy's root has.
fn offered_optional(parent: &Path, optional: &[Controller]) -> Vec<Controller> {
    if optional.is_empty() {
        return Vec::new();
    }
    let nearest = parent.ancestors().find(|p| p.is_dir()).unwrap_or(parent);
    let offered = fs::read_small(&nearest.join("cgroup.controllers")).unwrap_or_default();
    optional.iter().filter(|c| offered.split_whitespace().any(|o| o == c.v2_name())).copied().collect()
}

fn create_ancestors(parent: &Path, version: Version, made: &mut Vec<PathBuf>) -> Result<(), CgroupError> {
    let mut missing = Vec::new();
    let mut at = parent;
    while !at.is_dir() {
        missing.push(at.to_path_buf());
        at = at.parent().unwrap_or(Path::new("/"));
    }
    for dir in missing.into_iter().rev() {
        match std::fs::create_dir(&dir) {
            Ok(()) => made.push(dir.clone()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(create_error(&dir, e)),
        }
        if version == Version::V1 && dir.join("cpuset.cpus").exists() {
            copy_from_parent(&dir, "cpuset.cpus")?;
            copy_from_parent(&dir, "cpuset.mems")?;
        }
    }
    Ok(())
}

/// Enables `controllers` in the subtree_control of `parent` and of each ancestor up to the
/// hierarchy root, where they are not on yet.
fn enable_v2_controllers(parent: &Path, controllers: &[Controller]) -> Result<(), CgroupError> {
    if controllers.is_empty() {
        return Ok(());
    }
    let mut chain: Vec<&Path> = parent.ancestors().take_while(|p| p.join("cgroup.controllers").exists()).collect();
    chain.reverse();
    for dir in chain {
        let path = dir.join("cgroup.subtree_control");
        let enabled = fs::read_small(&path).map_err(|source| CgroupError::Read {
            what: "enabling a controller",
            path: path.clone(),
            source,
        })?;
        let mut names: Vec<&str> = controllers.iter().map(|c| c.v2_name()).collect();
        names.sort_unstable();
        names.dedup(); // cpu and cpuacct are both v2's cpu
        for c in names {
            if enabled.split_whitespace().any(|e| e == c) {
                continue;
            }
            let value = format!("+{c}");
            fs::write_file(&path, &value).map_err(|source| {
                let hint = Some(
                    "a v2 cgroup can hand controllers to children only while it has no processes of its own \
                     (and the caller must own it): choose an empty, delegated cgroup_parent",
                );
                CgroupError::Write { limit: "enabling a controller", path: path.clone(), value, source, hint }
            })?;
        }
    }
    Ok(())
}

pub(crate) fn copy_from_parent(dir: &Path, file: &'static str) -> Result<(), CgroupError> {
    let parent = dir.parent().unwrap_or(dir).join(file);
    let what = "cpuset inherited from the parent";
    let value = fs::read_small(&parent)
        .map_err(|source| CgroupError::Read { what, path: parent.clone(), source })?
        .trim()
        .to_string();
    let path = dir.join(file);
    fs::write_file(&path, &value).map_err(|source| CgroupError::Write { limit: what, path, value, source, hint: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parent_cpuset_that_cannot_be_read_is_an_error_naming_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("isobox-1-0");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("cpuset.cpus"), "").unwrap();
        let err = copy_from_parent(&dir, "cpuset.cpus").unwrap_err();
        assert!(matches!(&err, CgroupError::Read { path, .. } if *path == tmp.path().join("cpuset.cpus")), "{err}");
        std::fs::write(tmp.path().join("cpuset.cpus"), "0-1\n").unwrap();
        copy_from_parent(&dir, "cpuset.cpus").unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("cpuset.cpus")).unwrap(), "0-1");
    }

    #[test]
    fn figures_controllers_are_those_the_parent_or_its_nearest_existing_ancestor_is_offered() {
        let tmp = tempfile::tempdir().unwrap();
        let deleg = tmp.path().join("deleg");
        std::fs::create_dir(&deleg).unwrap();
        std::fs::write(tmp.path().join("cgroup.controllers"), "cpu io memory pids\n").unwrap();
        std::fs::write(deleg.join("cgroup.controllers"), "pids\n").unwrap();
        let stats = [Controller::Memory, Controller::Pids, Controller::CpuAcct];
        assert_eq!(offered_optional(&deleg, &stats), [Controller::Pids], "what the delegation offers");
        assert_eq!(offered_optional(&deleg.join("a/b"), &stats), [Controller::Pids], "still to be made");
        let all = offered_optional(&tmp.path().join("mine"), &stats);
        assert_eq!(all, stats, "cpuacct's figures are v2's cpu");
    }

    #[test]
    fn stale_names_give_their_creators_pid_but_never_ours() {
        assert_eq!(stale_owner("isobox-123-7"), Some(123));
        assert_eq!(stale_owner(&format!("isobox-{}-0", std::process::id())), None);
        assert_eq!(stale_owner("isobox-test-1"), None);
        assert_eq!(stale_owner("memory.max"), None);
    }
}
