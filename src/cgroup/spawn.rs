//! The sandbox's cgroup through one spawn (**parent**): this module owns when each step runs.
//!
//! On a pure cgroup v2 host the cgroup is made, limits written and read back, before the
//! clone, and the child is born in it (`clone3(CLONE_INTO_CGROUP)`). Elsewhere (v1, hybrid) it
//! is made while the child sets itself up, and the child then joins it itself ([`super::join`]):
//! the parent moving it would wait for an RCU grace period in the kernel.

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU64, Ordering};

use nix::unistd::Pid;

use super::error::CgroupError;
use super::group::Cgroup;
use super::hold::ParentHold;
use super::join::{self, JoinFile};
use super::parent;
use super::plan::{planned_dirs, CgroupPlan, Planned};

/// Numbers each sandbox cgroup this process creates, for unique names.
static NEXT_CGROUP: AtomicU64 = AtomicU64::new(0);

/// A sandbox cgroup about to be made: one directory per hierarchy, each below its parent,
/// held prepared.
struct Target<'a> {
    plan: &'a CgroupPlan,
    planned: Vec<Planned>,
    parents: ParentHold,
}

/// One spawn's cgroup steps, in the order the spawn runs them: [`CgroupSpawn::plan`] before
/// the clone, [`CgroupSpawn::place`] while the child waits for its first go,
/// [`CgroupSpawn::create_late`] while it sets up (v1 and hybrid), and
/// [`CgroupSpawn::into_cgroup`] once it has exec'd.
#[derive(Default)]
pub(crate) struct CgroupSpawn<'a> {
    /// Made before the clone (pure cgroup v2).
    early: Option<Cgroup>,
    /// To make while the child sets up (cgroup v1 or hybrid).
    late: Option<Target<'a>>,
    made_late: Option<Cgroup>,
}

impl<'a> CgroupSpawn<'a> {
    /// Before the clone: makes the cgroup (pure v2), or plans it and opens the files the child
    /// joins it through (returned; empty on v2 and without a cgroup).
    pub fn plan(plan: Option<&'a CgroupPlan>, is_root: bool) -> Result<(Self, Vec<JoinFile>), CgroupError> {
        let Some(plan) = plan else { return Ok((Self::default(), Vec::new())) };
        let parent = parent::resolve(plan.parent.as_deref(), &plan.layout, is_root)?;
        let name = match &plan.name {
            Some(name) => name.clone(),
            None => format!("isobox-{}-{}", std::process::id(), NEXT_CGROUP.fetch_add(1, Ordering::Relaxed)),
        };
        let planned = planned_dirs(plan, &parent, &name)?;
        // Held from here: a failure below lets go of them, which removes what this spawn made
        // of them unless someone else holds them.
        let mut parents = ParentHold::default();
        for p in &planned {
            parents.take(&p.parent, p.needs())?;
        }
        if plan.layout.is_pure_v2() {
            let early = Some(Cgroup::create(plan, planned, parents)?);
            return Ok((CgroupSpawn { early, ..Self::default() }, Vec::new()));
        }
        let join = join::prepare(&planned)?;
        Ok((CgroupSpawn { late: Some(Target { plan, planned, parents }), ..Self::default() }, join))
    }

    /// The v2 directory to clone the child into, when the cgroup was made before the clone.
    pub fn clone_into(&self) -> Option<OwnedFd> {
        self.early.as_ref().and_then(Cgroup::v2_dir_fd)
    }

    /// Whether the cgroup is made while the child sets up, which then waits for a second go.
    pub fn is_late(&self) -> bool {
        self.late.is_some()
    }

    /// While the child waits: moves it into a cgroup made before the clone, unless it was
    /// born there, so nothing of the sandbox ever runs outside it.
    pub fn place(&self, pid: Pid, born_in_cgroup: bool) -> Result<(), CgroupError> {
        match &self.early {
            Some(cgroup) => cgroup.add(pid.as_raw(), born_in_cgroup),
            None => Ok(()),
        }
    }

    /// While the child sets up (v1, hybrid): makes the cgroup, every limit written and read
    /// back; the child joins it after the second go.
    pub fn create_late(&mut self) -> Result<(), CgroupError> {
        if let Some(target) = self.late.take() {
            self.made_late = Some(Cgroup::create(target.plan, target.planned, target.parents)?);
        }
        Ok(())
    }

    /// The cgroup, for the `Child` to own.
    pub fn into_cgroup(self) -> Option<Cgroup> {
        self.early.or(self.made_late)
    }
}
