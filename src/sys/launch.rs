//! Starting a sandbox's child (**parent**): the one call of the `unsafe`
//! [`vmclone::spawn_shared`](super::vmclone::spawn_shared), with the child's recipe as entry.
//!
//! # Safety
//! The one `unsafe` block vouches for `child::recipe::main`, the code that runs between clone
//! and exec, against `spawn_shared`'s contract.

use std::os::fd::BorrowedFd;

use super::vmclone::{spawn_shared, ControlPipes, ParentSteps, SharedSpawn, SpawnFailure};
use crate::child::plan::ChildPlan;
use crate::child::recipe;

/// Clones the sandbox's child with namespace `flags`, runs the parent's `steps` while it
/// waits, and returns once it has exec'd or died (see `spawn_shared`).
pub fn spawn_child<S: ParentSteps>(
    flags: libc::c_int,
    plan: &ChildPlan<'_>,
    pipes: ControlPipes,
    cgroup: Option<BorrowedFd<'_>>,
    steps: &mut S,
) -> Result<SharedSpawn<S::Error>, SpawnFailure> {
    // SAFETY: `recipe::main` keeps the contract: every step it runs is async-signal-safe and
    // reads only `plan` (prepared by the parent, borrowed for this call) and its own stack;
    // its system calls go through `sys::child`; it closes its copy of go_write first, waits for
    // a go byte at each release point (`plan.launch.second_release` says how many, the same
    // flag `steps.second_release()` reads) and exits on EOF; with `plan.launch.hands_over()`
    // (the caller makes `steps.handoff_len()` non-zero exactly then) it writes one handoff
    // message of that length after its last release and waits for one more go byte; it ends
    // in execve or exit_group.
    unsafe { spawn_shared(flags, true, plan, recipe::main, pipes, cgroup, steps) }
}
