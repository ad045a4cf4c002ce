//! Setting the rlimits (**child**): early the ones the plan sets early, late the open-files
//! limit (see [`RlimitPlan`]). Async-signal-safe: no allocation.

use nix::errno::Errno;

use super::plan::RlimitPlan;
use super::spec::{Resource, Rlimit};
use crate::sys::child as sys;

/// prlimit64 for each limit but the open-files one, in order, then the open-files hard limit
/// if it is raised; a failure says which one, by index.
pub(crate) fn set_early(plan: &RlimitPlan) -> Result<(), (usize, Errno)> {
    for (index, r) in plan.list.iter().enumerate().filter(|(_, r)| r.resource != Resource::NoFile) {
        set(index, r, r.soft)?;
    }
    match nofile(plan) {
        Some((index, r)) if plan.raise_nofile_early => set(index, r, r.hard),
        _ => Ok(()),
    }
}

/// The open-files limit as asked, once the child's descriptors are arranged.
pub(crate) fn set_nofile(plan: &RlimitPlan) -> Result<(), (usize, Errno)> {
    match nofile(plan) {
        Some((index, r)) => set(index, r, r.soft),
        None => Ok(()),
    }
}

fn nofile(plan: &RlimitPlan) -> Option<(usize, &Rlimit)> {
    plan.nofile.and_then(|index| plan.list.get(index).map(|r| (index, r)))
}

/// `r`'s hard limit with the soft limit `soft`.
fn set(index: usize, r: &Rlimit, soft: u64) -> Result<(), (usize, Errno)> {
    sys::setrlimit(r.resource.raw(), soft, r.hard).map_err(|errno| (index, errno))
}
