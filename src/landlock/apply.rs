//! Restricting the child with Landlock (**child**), after its mounts, pivot and no_new_privs,
//! right before exec: create the ruleset from the prepared attribute, add each path rule (open
//! the path O_PATH as the sandbox sees it, add, close) and each port rule, restrict, close.
//! Async-signal-safe: no allocation; every struct was computed at `build()`.

use std::os::fd::RawFd;

use nix::errno::Errno;

use super::plan::{LandlockPlan, PathRulePlan, RULESET_INDEX};
use crate::sys::child as sys;
use crate::sys::landlock as syscalls;
use crate::sys::mount_api;

/// The whole step; a failure carries the path rule's index, or [`RULESET_INDEX`] for the
/// ruleset itself, its port rules and the restriction.
pub(crate) fn restrict(plan: Option<&LandlockPlan>) -> Result<(), (usize, Errno)> {
    let Some(plan) = plan else { return Ok(()) };
    let ruleset = syscalls::create_ruleset(&plan.attr).map_err(whole)?;
    let result = add_rules(plan, ruleset).and_then(|()| syscalls::restrict_self(ruleset).map_err(whole));
    let closed = sys::close(ruleset).map_err(whole);
    result.and(closed)
}

fn add_rules(plan: &LandlockPlan, ruleset: RawFd) -> Result<(), (usize, Errno)> {
    for (index, rule) in plan.paths.iter().enumerate() {
        add_path(ruleset, rule).map_err(|errno| (index, errno))?;
    }
    for port in &plan.ports {
        syscalls::add_net_port(ruleset, port).map_err(whole)?;
    }
    Ok(())
}

/// Opens the rule's path as a directory, or else as a file (which takes only file rights),
/// adds the rule and closes the path again. No symbolic link is followed (ELOOP): a link in
/// an untrusted root could otherwise widen the rule to wherever it points.
fn add_path(ruleset: RawFd, rule: &PathRulePlan) -> Result<(), Errno> {
    let open =
        |flags| mount_api::openat2(libc::AT_FDCWD, &rule.path, libc::O_PATH | flags, mount_api::RESOLVE_NO_SYMLINKS);
    let (fd, access) = match open(libc::O_DIRECTORY) {
        Ok(fd) => (fd, rule.access),
        Err(Errno::ENOTDIR) => (open(0)?, rule.file_access),
        Err(errno) => return Err(errno),
    };
    let added = syscalls::add_path_beneath(ruleset, fd, access);
    let closed = sys::close(fd);
    added.and(closed)
}

fn whole(errno: Errno) -> (usize, Errno) {
    (RULESET_INDEX, errno)
}
