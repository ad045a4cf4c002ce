//! What the parent compiles once per `Sandbox` for its cgroup, and where one spawn's
//! directories go (**parent**).

use std::collections::BTreeSet;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::controller::Controller;
use super::dir::{Dir, Version};
use super::error::{CgroupError, PlanError};
use super::hold::{Needs, SandboxHold};
use super::layout::{dir_of, Hierarchy, Layout, Place};
use super::settings::Setting;
use super::spec::{HostFacts, Limits};

/// Everything needed to create a sandbox's cgroup, prepared at `build()`.
#[derive(Debug, Clone)]
pub(crate) struct CgroupPlan {
    pub layout: Layout,
    /// The cgroup (path from the hierarchy root) each sandbox's cgroup is created in, if the
    /// user chose one (see `parent::resolve`).
    pub parent: Option<PathBuf>,
    /// The sandbox cgroup's name, if the user chose one (else `isobox-<pid>-<n>`).
    pub name: Option<String>,
    pub settings: Vec<Setting>,
    pub page_size: u64,
    /// The least memory max or high the setup needs before exec (see `HostFacts`).
    pub memory_floor: u64,
    /// The sandbox's hold on the parents its cgroups go in, from its first cgroup on.
    pub hold: SandboxHold,
}

impl CgroupPlan {
    /// The tighter of memory max and memory high, if either was asked for.
    pub fn memory_limit(&self) -> Option<u64> {
        let limits = self.settings.iter().filter_map(|s| match s {
            Setting::MemoryMax(n) | Setting::MemoryHigh(n) => Some(*n),
            _ => None,
        });
        limits.min()
    }
}

/// Validates the limits and reads the host's cgroup layout; `None` when neither a limit nor a
/// cgroup parent was asked for. The parent is resolved at spawn.
/// Where the user put the sandbox's cgroup: its parent and its name, each if chosen.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Where<'a> {
    pub parent: Option<&'a Path>,
    pub name: Option<&'a str>,
}

pub(crate) fn compile(limits: &Limits, place: Where<'_>, memory_floor: u64) -> Result<Option<CgroupPlan>, PlanError> {
    let Where { parent, name } = place;
    // A chosen parent or name gives the sandbox a cgroup even without limits: for its
    // figures and the clean-up of every process in it.
    if limits.is_empty() && parent.is_none() && name.is_none() {
        return Ok(None);
    }
    if let Some(name) = name.filter(|n| !is_one_component(n)) {
        return Err(PlanError::Name(name.to_string()));
    }
    let settings = limits.settings(&HostFacts::read(memory_floor))?;
    if let Some(parent) = parent.filter(|p| !p.is_absolute() || p.as_os_str().as_bytes().contains(&0)) {
        return Err(PlanError::Parent(parent.to_path_buf()));
    }
    // Joined under each hierarchy's mount point: `..` could make isobox create (and later
    // remove) directories outside the cgroup file system.
    if let Some(parent) = parent.filter(|p| p.components().any(|c| c == std::path::Component::ParentDir)) {
        return Err(PlanError::ParentDir(parent.to_path_buf()));
    }
    let layout = Layout::detect().map_err(|(path, source)| PlanError::Layout { path, source })?;
    let page_size = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE).ok().flatten().unwrap_or(4096) as u64;
    let parent = parent.map(Path::to_path_buf);
    Ok(Some(CgroupPlan {
        layout,
        parent,
        name: name.map(str::to_string),
        settings,
        page_size,
        memory_floor,
        hold: SandboxHold::default(),
    }))
}

/// A cgroup name that is one directory: not empty, no `/`, not `.` or `..`, no NUL, at most
/// 255 bytes.
fn is_one_component(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && name != "." && name != ".." && !name.contains(['/', '\0'])
}

/// Controllers read for the exit report when the host has them; not an error when missing.
const FOR_STATS: [Controller; 3] = [Controller::Memory, Controller::Pids, Controller::CpuAcct];

pub(crate) const MISSING_HINT: &str = "on cgroup v2 the parent's cgroup.subtree_control must offer it (delegation); \
     on v1 the controller's hierarchy must be mounted under /sys/fs/cgroup";

/// One directory of a spawn's cgroup, with where it goes.
#[derive(Debug)]
pub(crate) struct Planned {
    /// The hierarchy's mount point (the child joins relative to it, see `join`).
    pub mount: PathBuf,
    /// The parent directory it goes in.
    pub parent: PathBuf,
    pub dir: Dir,
    /// Of `dir.controllers`, those a limit needs, and those read for the figures only.
    pub required: Vec<Controller>,
    pub optional: Vec<Controller>,
}

impl Planned {
    /// What the parent must be prepared for.
    pub fn needs(&self) -> Needs<'_> {
        Needs { version: self.dir.version, required: &self.required, optional: &self.optional }
    }
}

/// The sandbox's directory `name` in each hierarchy it needs, with the parent directory it
/// goes in.
pub(crate) fn planned_dirs(plan: &CgroupPlan, parent: &Path, name: &str) -> Result<Vec<Planned>, CgroupError> {
    let required = required_controllers(plan, parent)?;
    let mut wanted = required.clone();
    wanted.extend(FOR_STATS.iter().filter(|c| plan.layout.place(**c).is_some()));
    let dirs = group_by_hierarchy(&plan.layout, &wanted).into_iter().map(|(hierarchy, version, controllers)| {
        let parent_dir = dir_of(hierarchy, parent);
        let path = parent_dir.join(name);
        let (required, optional) = controllers.iter().partition(|c| required.contains(c));
        let dir = Dir { path, version, controllers };
        Planned { mount: hierarchy.mount.clone(), parent: parent_dir, dir, required, optional }
    });
    Ok(dirs.collect())
}

/// The controllers the limits need; each must exist.
fn required_controllers(plan: &CgroupPlan, parent: &Path) -> Result<BTreeSet<Controller>, CgroupError> {
    let mut wanted = BTreeSet::new();
    for setting in &plan.settings {
        let controller = setting.controller();
        if plan.layout.place(controller).is_none() {
            return Err(CgroupError::ControllerMissing {
                controller: controller.v2_name(),
                parent: parent.to_path_buf(),
                hint: MISSING_HINT,
            });
        }
        wanted.insert(controller);
    }
    Ok(wanted)
}

/// Groups controllers by the hierarchy that holds them (v1 may co-mount several).
fn group_by_hierarchy<'a>(
    layout: &'a Layout,
    wanted: &BTreeSet<Controller>,
) -> Vec<(&'a Hierarchy, Version, Vec<Controller>)> {
    let mut groups: Vec<(&Hierarchy, Version, Vec<Controller>)> = Vec::new();
    for controller in wanted {
        let (h, version) = match layout.place(*controller) {
            Some(Place::V1(h)) => (h, Version::V1),
            Some(Place::V2(h)) => (h, Version::V2),
            None => continue,
        };
        match groups.iter_mut().find(|(g, _, _)| g.mount == h.mount) {
            Some((_, _, list)) => list.push(*controller),
            None => groups.push((h, version, vec![*controller])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_whose_controller_is_missing_fails_naming_it() {
        let v1 =
            Hierarchy { mount: "/nonexistent/memory".into(), root: "/".into(), controllers: vec!["memory".into()] };
        let layout = Layout { unified: None, unified_controllers: vec![], v1: vec![v1] };
        let settings = vec![Setting::PidsMax(4)];
        let hold = SandboxHold::default();
        let plan = CgroupPlan { layout, parent: None, name: None, settings, page_size: 4096, memory_floor: 0, hold };
        let err = planned_dirs(&plan, Path::new("/isobox"), "x").unwrap_err();
        assert!(matches!(err, CgroupError::ControllerMissing { controller: "pids", .. }), "{err}");
    }

    #[test]
    fn a_cgroup_name_is_one_directory() {
        for bad in ["", ".", "..", "a/b", "/a", "x\0"] {
            assert!(!is_one_component(bad), "{bad:?}");
        }
        for good in ["c1", "ocitest-3f2a", "a.b"] {
            assert!(is_one_component(good), "{good:?}");
        }
        let limits = Limits::default();
        let err = compile(&limits, Where { parent: None, name: Some("a/b") }, 0).unwrap_err();
        assert!(matches!(err, PlanError::Name(n) if n == "a/b"));
    }
}
