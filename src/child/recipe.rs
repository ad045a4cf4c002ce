//! The child's recipe: everything between clone and exec, one line per step (**child**).
//!
//! Runs on a stack of its own in memory shared with the parent (see `sys::vmclone`). Every
//! step is async-signal-safe: it does not allocate, lock, format or panic; it reads only what
//! the parent prepared in the [`ChildPlan`]. On failure it writes one record on the report
//! pipe and exits with 127; on success exec closes the pipe (EOF tells the parent).

use std::convert::Infallible;

use super::control;
use super::fds;
use super::init;
use super::plan::{ChildLaunch, ChildPlan};
use super::privileges;
use super::program;
use super::record::{at, each, record, Record};
use super::step::Step;
#[cfg(feature = "landlock")]
use crate::landlock;
use crate::sys::child as sys;
use crate::{cgroup, mount, net, rlimit, time, user, uts};

/// The child's entry point. Never returns.
pub(crate) fn main(p: &ChildPlan<'_>) -> ! {
    let Err(failure) = run(p);
    let _ = sys::write(p.launch.control.report_write, &failure.encode());
    sys::exit_group(127)
}

/// The recipe, in order. Why each step sits where it does:
/// - the death signal is set before waiting for `go`, so a parent that died first reads as EOF;
/// - the time namespace is entered and its offsets written before anything else runs in it,
///   and before the ids change (the switch hands /proc/self to host root);
/// - the child becomes the sandbox's root as soon as its id maps exist, so that everything it
///   creates is owned inside and it reaches the host only as the mapped identity;
/// - mounts come before the ids change, while the child still has its capabilities;
/// - the cgroup is joined after the second `go` (v1: the parent made it meanwhile) and its
///   namespace entered after, so the namespace's root is the sandbox's own cgroup; when the
///   child must switch to the sandbox's root ids first (a root caller mapped to nobody), it
///   joins before the switch, while it may still write the host's root-owned join files;
/// - the new session before anything that could open a terminal; it needs no privilege;
/// - the ambient set is cleared and the bounding set cut down before the ids change: the drop
///   needs CAP_SETPCAP, which a switch to a non-zero uid takes away (KEEPCAPS keeps the
///   permitted set across it when capabilities are kept);
/// - groups before gid before uid: each needs the privilege the next one drops;
/// - capset after the uid switch, which clears the effective set, and the ambient raise after
///   capset, which makes the raised capabilities inheritable;
/// - a change of credentials clears the death signal, so it is set again after the last one;
/// - descriptors are arranged last but for chdir and signals, so nothing opened on the way
///   reaches the program, and the caller's copies are closed then; the open-files limit comes
///   right after, not with the other rlimits, so that those copies never count against it
///   (`RlimitPlan`);
/// - Landlock comes after the mounts, which it would forbid, and after no_new_privs, which it
///   needs; its rules name paths as the program sees them.
/// - the seccomp filter is installed last, so it never has to allow isobox's own setup: after
///   it come only execve, and on failure write and exit_group; with notify rules, before exec,
///   the listener's handover (a write on the report pipe, a read on the go pipe, which its
///   prologue allows), so that the parent holds the listener before the program runs.
fn run(p: &ChildPlan<'_>) -> Result<Infallible, Record> {
    let (setup, launch) = (p.setup, &p.launch);
    at(Step::ClosePipes, control::close_parent_ends(&launch.control))?;
    at(Step::DeathSignal, control::set_death_signal(setup.die_with_parent))?;
    at(Step::WaitGo, control::wait_go(&launch.control, !launch.second_release && !launch.hands_over()))?;
    at(Step::UnshareTime, time::apply::unshare(&setup.time))?;
    at(Step::TimeOffsets, time::apply::write_offsets(&setup.time))?;
    if setup.setup_ids.is_some() {
        join_cgroup(launch)?;
    }
    at(Step::SetupIds, user::apply::setup_ids(setup.setup_ids))?;
    at(Step::DeathSignal, control::rearm_death_signal(setup.die_with_parent, &launch.control))?;
    // Through the caller's /proc/sys, which resolves to the child's namespaces: the sandbox's
    // own procfs would be read-only there once mounted.
    crate::sysctl::apply::write_all(&setup.sysctl).map_err(|f| record(Step::Sysctl, f))?;
    mount::apply::run(&setup.mounts.ops, launch.overlay_upper)?;
    at(Step::Hostname, uts::apply::hostname(&setup.uts))?;
    at(Step::Domainname, uts::apply::domainname(&setup.uts))?;
    at(Step::Loopback, net::apply::loopback(&setup.net))?;
    each(Step::Rlimit, rlimit::apply::set_early(&setup.rlimits))?;
    if setup.setup_ids.is_none() {
        join_cgroup(launch)?;
    }
    at(Step::UnshareCgroup, sys::unshare(setup.unshare_cgroup))?;
    program::install_early(setup, launch)?;
    privileges::settle(setup, launch)?;
    at(Step::Fds, fds::arrange(&launch.exec.fd_moves, launch.fd_scratch, &launch.fd_keep))?;
    // A pooled sandbox's waiter sets the open-files limit once the command's descriptors
    // are in place, as this does for a spawn's.
    if launch.waiter.is_none() {
        each(Step::Rlimit, rlimit::apply::set_nofile(&setup.rlimits))?;
    }
    at(Step::Chdir, launch.exec.cwd.as_deref().map_or(Ok(()), sys::chdir))?;
    // With an init the program unblocks signals itself: the init must start with all blocked.
    at(Step::Signals, control::reset_signals(launch.init.is_none()))?;
    #[cfg(feature = "landlock")]
    each(Step::Landlock, landlock::apply::restrict(setup.landlock.as_ref()))?;
    match &launch.init {
        Some(init) => init::start(p, init),
        None => program::finish(p.setup, &p.launch, None),
    }
}

/// cgroup v1 and hybrid hosts: waits for the parent to make the cgroup, then joins it.
fn join_cgroup(launch: &ChildLaunch<'_>) -> Result<(), Record> {
    let last = !launch.hands_over();
    at(Step::WaitCgroup, if launch.second_release { control::wait_go(&launch.control, last) } else { Ok(()) })?;
    each(Step::JoinCgroup, cgroup::apply::join(launch.cgroup_join))
}
