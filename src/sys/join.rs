//! Running another program in a live sandbox (`Child::exec`): the system calls of its two
//! processes (**child**) and their start (**parent**).
//!
//! The first process, A, is cloned by [`spawn_shared`] like a spawn's child but with no new
//! namespace; it joins the sandbox's namespaces (`setns` through the sandbox's pidfd) and
//! clones the second, B, with `CLONE_VM | CLONE_VFORK | CLONE_PARENT`: B is the caller's child,
//! in the sandbox's pid namespace (which `setns` sets for A's children only), born in the
//! sandbox's cgroup on a pure v2 host (`CLONE_INTO_CGROUP`). The kernel writes B's pid into the
//! plan's `launched` word (`CLONE_PARENT_SETTID`) before B runs, so the caller learns it even
//! if A dies; A exits once B has exec'd or exited (vfork).
//!
//! # Safety
//! [`exec_child`] holds the `unsafe` block that starts A: it vouches for
//! `child::join_recipe::main` against `spawn_shared`'s contract. [`clone_joined`] is an
//! `unsafe fn` (its stack and argument must outlive B's use of them), whose block is the
//! clone; [`start_joined`] vouches for its one call, with the plan's stack.

use std::ffi::c_void;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::AtomicI32;

use nix::errno::Errno;

use super::child::call;
use super::clone3::{clone3_raw, CloneArgs};
use super::raw::check;
use super::stack::Stack;
use super::vmclone::{spawn_shared, ControlPipes, ParentSteps, SharedSpawn, SpawnFailure};
use crate::child::join_recipe;
use crate::join::plan::JoinedPlan;

/// setns(2) of `flags` through `fd` (a pidfd: several namespaces at once, Linux 5.8), or
/// nothing when `flags` is 0. Async-signal-safe: does not allocate.
pub fn setns(fd: RawFd, flags: i32) -> Result<(), Errno> {
    if flags == 0 {
        return Ok(());
    }
    call(libc::SYS_setns, [fd as usize, flags as usize, 0, 0, 0, 0]).map(drop)
}

/// B's stack, as the parent mapped it (its guard page at `base`). Made only from a
/// [`Stack`] the parent holds until [`exec_child`] returns.
#[derive(Debug, Clone, Copy)]
pub struct JoinedStack {
    base: usize,
    len: usize,
}

impl JoinedStack {
    /// The whole of `stack`'s mapping; the caller keeps `stack` until [`exec_child`] returns.
    pub fn of(stack: &Stack) -> JoinedStack {
        JoinedStack { base: stack.base as usize, len: stack.len }
    }
}

/// Starts B, which runs `run(plan)`: [`clone_joined`] on the plan's stack, into its cgroup.
/// Returns once B has exec'd or exited. Async-signal-safe (**child**, A).
pub fn start_joined(plan: &JoinedPlan<'_>, run: fn(&JoinedPlan<'_>) -> !) -> Result<(), Errno> {
    let start = JoinedStart { arg: plan, run };
    // SAFETY: `start` lives in this frame and `plan` in the parent's, which `exec_child` keeps
    // until A has exited, and `clone_joined` returns only once B is done with both; the
    // plan's stack was made by `JoinedStack::of` from a Stack the parent holds until then,
    // used by no other process (A runs on the spawn's own).
    unsafe { clone_joined(plan.join.stack, &start, plan.join.cgroup_into, &plan.join.launched) }
}

/// What B runs: `run(arg)`.
pub struct JoinedStart<'a, T> {
    arg: &'a T,
    run: fn(&T) -> !,
}

/// Clones B (`CLONE_VM | CLONE_VFORK | CLONE_PARENT`, into `cgroup` when given) onto `stack`;
/// the kernel stores its pid (in the caller's pid namespace) in `launched` before B runs.
/// Returns once B has exec'd or exited. Async-signal-safe: no allocation.
///
/// # Safety
/// B reads `start` and what its `arg` borrows until it execs or exits; this returns only
/// then (vfork), so a caller that keeps them in its frame keeps them alive. `stack` must be
/// a mapping no other process runs on, alive until B has exec'd or exited.
unsafe fn clone_joined<T: Sync>(
    stack: JoinedStack,
    start: &JoinedStart<'_, T>,
    cgroup: Option<RawFd>,
    launched: &AtomicI32,
) -> Result<(), Errno> {
    let base = (libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_PARENT | libc::CLONE_PARENT_SETTID) as u64;
    let args = CloneArgs {
        flags: base | cgroup.map_or(0, |_| CLONE_INTO_CGROUP),
        parent_tid: launched.as_ptr() as u64,
        // CLONE_PARENT takes the exit signal of the caller's own child (SIGCHLD); 0 here.
        exit_signal: 0,
        stack: stack.base as u64,
        stack_size: stack.len as u64,
        cgroup: cgroup.map_or(0, |fd| fd as u64),
        ..CloneArgs::default()
    };
    let arg = start as *const JoinedStart<'_, T> as *mut c_void;
    // SAFETY: `args` describes the whole stack mapping the parent made for B (its guard page
    // at the bottom); B runs `entry::<T>` on it and reads `start`, alive while we are
    // suspended (vfork) and so until B has exec'd or exited. The kernel writes one i32 to
    // `launched`, an atomic the parent reads only after the report pipe's EOF.
    let ret = unsafe { clone3_raw(&args, entry::<T>, arg) };
    check(ret).map(drop)
}

/// CLONE_INTO_CGROUP (linux/sched.h), which libc does not define on every target.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

extern "C" fn entry<T: Sync>(arg: *mut c_void) -> libc::c_int {
    // SAFETY: `arg` is the `JoinedStart<T>` of `clone_joined`, alive while we run (see there).
    let start = unsafe { &*(arg as *const JoinedStart<'_, T>) };
    (start.run)(start.arg)
}

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
    // this returns); their system calls go through `sys::child` and this module; A closes
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
