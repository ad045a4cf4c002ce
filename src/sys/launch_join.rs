//! Starting `Child::exec`'s first process, A (**parent**): the one call of the `unsafe`
//! [`vmclone::spawn_shared`](super::vmclone::spawn_shared), with the join recipe as entry,
//! and the pidfd of the second, B, once it has exec'd.
//!
//! # Safety
//! One `unsafe` block vouches for `child::join_recipe::main` against `spawn_shared`'s
//! contract; the others open a pidfd and take ownership of it.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use super::vmclone::{spawn_shared, ControlPipes, ParentSteps, SharedSpawn, SpawnFailure};
use crate::child::join_recipe;
use crate::join::plan::JoinedPlan;

/// Starts A with the join recipe, runs the parent's `steps` while it waits, and returns once
/// A has exited and B has exec'd or exited (see `spawn_shared`).
pub fn exec_child<S: ParentSteps>(
    plan: &JoinedPlan<'_>,
    pipes: ControlPipes,
    steps: &mut S,
) -> Result<SharedSpawn<S::Error>, SpawnFailure> {
    // SAFETY: `join_recipe::main` keeps the contract: every step it and B run is
    // async-signal-safe and reads only `plan` (prepared by the parent, borrowed for this
    // call) and its own stack (B's is the plan's second stack, which the parent keeps until
    // this returns); their system calls go through `sys::child`, `sys::join` and `sys::join_start`; A closes
    // its copy of go_write first, waits for one go byte (`steps.second_release()` is false,
    // `handoff_len()` 0: exec refuses notify rules) and exits on EOF; B inherits the report
    // pipe, so EOF waits for B's exec or exit as well as A's exit. The one write outside
    // their stacks is the kernel's, of B's pid into the atomic `plan.join.launched`. Both end
    // in execve or exit_group.
    unsafe { spawn_shared(0, false, plan, join_recipe::main, pipes, None, steps) }
}

/// pidfd_open(2) of the caller's child `pid` (**parent**), close-on-exec.
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes two integers and touches no memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just created this descriptor for us and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}
