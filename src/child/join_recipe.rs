//! The recipe of `Child::exec` (**child**): a command run inside a live sandbox, with the
//! sandbox's own hardening. Two processes, both sharing the caller's memory until exec, both
//! async-signal-safe like `recipe` (no allocation, lock, format or panic; raw system calls
//! over what the parent prepared in the [`JoinedPlan`]):
//!
//! - A, cloned by the parent with no new namespace and outside the sandbox's cgroup: closes
//!   the parent's pipe ends → death signal → waits for `go` → joins the sandbox's namespaces
//!   (`setns` through its pidfd, user first, all but cgroup) → clones B and, once B has
//!   exec'd or exited (vfork), exits.
//! - B, the caller's child (`CLONE_PARENT`) in the sandbox's pid namespace, born in its
//!   cgroup on pure v2: death signal → (v1, hybrid) joins the cgroup → joins the cgroup
//!   namespace → the tail of the spawn's recipe, in the same order and with the same plans:
//!   rlimits, setsid, capabilities, groups, gid, uid, death signal again, no_new_privs,
//!   descriptors, the open-files limit, chdir, signals, Landlock, seccomp, execve (of the
//!   command, or of isobox's waiter for a pooled sandbox, see `pool`).
//!
//! Why A is not B: `setns(CLONE_NEWPID)` moves only the caller's later children. Why A stays
//! out of the cgroup and B is its vfork child: a process that shares the caller's memory must
//! not be a candidate of the sandbox's OOM killer, which would kill every process sharing that
//! memory, the caller too; the kernel never picks a vfork child that shares its parent's
//! memory (`in_vfork`), and B's parent is the caller. B joins the cgroup before the cgroup
//! namespace: with `nsdelegate` a move must be visible from the mover's cgroup namespace.
//! `setns(CLONE_NEWNS)` sets root and working directory to the namespace's root, which after
//! the spawn's pivot_root is the sandbox's root: nothing of the host stays reachable.
//!
//! A failure writes one record on the report pipe (B's reaches it too: B inherits it) and
//! exits with 127.

use std::convert::Infallible;

use super::control;
use super::fds;
use super::privileges;
use super::program;
use super::record::{at, each, record, Record};
use super::step::Step;
use crate::join::plan::JoinedPlan;
#[cfg(feature = "landlock")]
use crate::landlock;
use crate::sys::child as sys;
use crate::sys::join as join_sys;
use crate::sys::join_start::start_joined;
use crate::{cgroup, rlimit};

/// A's entry point. Never returns.
pub(crate) fn main(p: &JoinedPlan<'_>) -> ! {
    if let Err(failure) = enter(p) {
        let _ = sys::write(p.launch.control.report_write, &failure.encode());
        sys::exit_group(127)
    }
    sys::exit_group(0)
}

/// A: joins the sandbox's namespaces and starts B; returns once B has exec'd or exited.
fn enter(p: &JoinedPlan<'_>) -> Result<(), Record> {
    let (setup, control) = (p.setup, &p.launch.control);
    at(Step::ClosePipes, control::close_parent_ends(control))?;
    at(Step::DeathSignal, control::set_death_signal(setup.die_with_parent))?;
    at(Step::WaitGo, control::wait_go(control, true))?;
    at(Step::Setns, join_sys::setns(p.join.pidfd, p.join.setns_flags))?;
    at(Step::StartJoined, start_joined(p, joined_main))
}

/// B's entry point. Never returns.
fn joined_main(p: &JoinedPlan<'_>) -> ! {
    let Err(failure) = joined(p);
    let _ = sys::write(p.launch.control.report_write, &failure.encode());
    sys::exit_group(127)
}

/// B: into the cgroup and its namespace, then the sandbox's hardening, then exec.
fn joined(p: &JoinedPlan<'_>) -> Result<Infallible, Record> {
    let (setup, launch) = (p.setup, &p.launch);
    at(Step::DeathSignal, control::set_death_signal(setup.die_with_parent))?;
    each(Step::JoinCgroup, cgroup::apply::join(launch.cgroup_join))?;
    join_sys::setns(p.join.pidfd, p.join.cgroup_ns).map_err(|errno| record(Step::Setns, (1, errno)))?;
    each(Step::Rlimit, rlimit::apply::set_early(&setup.rlimits))?;
    program::install_early(setup, launch)?;
    privileges::settle(setup, launch)?;
    at(Step::Fds, fds::arrange(&launch.exec.fd_moves, launch.fd_scratch, &launch.fd_keep))?;
    // A pooled sandbox's waiter sets the open-files limit once the command's descriptors
    // are in place (as in `recipe`).
    if launch.waiter.is_none() {
        each(Step::Rlimit, rlimit::apply::set_nofile(&setup.rlimits))?;
    }
    at(Step::Chdir, launch.exec.cwd.as_deref().map_or(Ok(()), sys::chdir))?;
    at(Step::Signals, control::reset_signals(true))?;
    #[cfg(feature = "landlock")]
    each(Step::Landlock, landlock::apply::restrict(setup.landlock.as_ref()))?;
    // No notify rules here (refused before): no listener to hand over.
    program::finish(setup, launch, None)
}
