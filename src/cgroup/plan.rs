//! What the parent compiles once per `Sandbox` for its cgroup, and where one spawn's
//! directories go (**parent**).

use std::collections::BTreeSet;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::controller::Controller;
use super::dir::{Dir, Version};
use super::error::{CgroupError, PlanError};
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
    pub settings: Vec<Setting>,
    pub page_size: u64,
    /// The least memory max or high the setup needs before exec (see `HostFacts`).
    pub memory_floor: u64,
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
pub(crate) fn compile(
    limits: &Limits,
    parent: Option<&Path>,
    memory_floor: u64,
) -> Result<Option<CgroupPlan>, PlanError> {
    // A chosen parent gives the sandbox a cgroup even without limits: for its figures and
    // the clean-up of every process in it.
    if limits.is_empty() && parent.is_none() {
        return Ok(None);
    }
    let settings = limits.settings(&HostFacts::read(memory_floor))?;
    if let Some(parent) = parent.filter(|p| !p.is_absolute() || p.as_os_str().as_bytes().contains(&0)) {
        return Err(PlanError::Parent(parent.to_path_buf()));
    }
    let layout = Layout::detect().map_err(|(path, source)| PlanError::Layout { path, source })?;
    let page_size = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE).ok().flatten().unwrap_or(4096) as u64;
    Ok(Some(CgroupPlan { layout, parent: parent.map(Path::to_path_buf), settings, page_size, memory_floor }))
}

/// Controllers read for the exit report when the host has them; not an error when missing.
const FOR_STATS: [Controller; 3] = [Controller::Memory, Controller::Pids, Controller::CpuAcct];

pub(crate) const MISSING_HINT: &str = "on cgroup v2 the parent's cgroup.subtree_control must offer it (delegation); \
     on v1 the controller's hierarchy must be mounted under /sys/fs/cgroup";

/// The sandbox's directory `name` in each hierarchy it needs, with the parent directory it
/// goes in.
pub(crate) fn planned_dirs(plan: &CgroupPlan, parent: &Path, name: &str) -> Result<Vec<(PathBuf, Dir)>, CgroupError> {
    let wanted = wanted_controllers(plan, parent)?;
    let dirs = group_by_hierarchy(&plan.layout, &wanted).into_iter().map(|(hierarchy, version, controllers)| {
        let parent = dir_of(hierarchy, parent);
        let path = parent.join(name);
        (parent, Dir { path, version, controllers })
    });
    Ok(dirs.collect())
}

/// The controllers the limits need (each must exist), plus those read for the report.
fn wanted_controllers(plan: &CgroupPlan, parent: &Path) -> Result<BTreeSet<Controller>, CgroupError> {
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
    wanted.extend(FOR_STATS.iter().filter(|c| plan.layout.place(**c).is_some()));
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
        let plan =
            CgroupPlan { layout, parent: None, settings: vec![Setting::PidsMax(4)], page_size: 4096, memory_floor: 0 };
        let err = planned_dirs(&plan, Path::new("/isobox"), "x").unwrap_err();
        assert!(matches!(err, CgroupError::ControllerMissing { controller: "pids", .. }), "{err}");
    }
}
