//! `Child::exec`'s system calls in its two processes (**child**): `setns`, and the clone of
//! the second process, B, by the first, A.
//!
//! A joins the sandbox's namespaces (`setns` through the sandbox's pidfd) and clones B with
//! `CLONE_VM | CLONE_VFORK | CLONE_PARENT`: B is the caller's child, in the sandbox's pid
//! namespace (which `setns` sets for A's children only), born in the sandbox's cgroup on a
//! pure v2 host (`CLONE_INTO_CGROUP`). The kernel writes B's pid into a word of the parent's
//! (`CLONE_PARENT_SETTID`) before B runs, so the caller learns it even if A dies; A resumes
//! once B has exec'd or exited (vfork).
//!
//! # Safety
//! [`clone_joined`] is an `unsafe fn` (its stack and argument must outlive B's use of them,
//! and no other process may run on that stack); its block is the clone, and another turns
//! its argument back into a reference in B. `join_start` vouches for its one call.
use std::ffi::c_void;
use std::os::fd::RawFd;
use std::sync::atomic::AtomicI32;

use nix::errno::Errno;

use super::child::call;
use super::clone3::{clone3_raw, CloneArgs, CLONE_INTO_CGROUP};
use super::raw::check;
use super::vfork::{ProgramStack, ProgramStart};

/// setns(2) of `flags` through `fd` (a pidfd: several namespaces at once, Linux 5.8), or
/// nothing when `flags` is 0. Async-signal-safe: does not allocate.
pub fn setns(fd: RawFd, flags: i32) -> Result<(), Errno> {
    if flags == 0 {
        return Ok(());
    }
    call(libc::SYS_setns, [fd as usize, flags as usize, 0, 0, 0, 0]).map(drop)
}

/// B's stack: a [`ProgramStack`], as the program beside the init has.
pub type JoinedStack = ProgramStack;

/// What B runs: `run(arg)`.
pub type JoinedStart<'a, T> = ProgramStart<'a, T>;

/// Clones B (`CLONE_VM | CLONE_VFORK | CLONE_PARENT`, into `cgroup` when given) onto `stack`;
/// the kernel stores its pid (in the caller's pid namespace) in `launched` before B runs.
/// Returns once B has exec'd or exited. Async-signal-safe: no allocation.
///
/// # Safety
/// B reads `start` and what its `arg` borrows until it execs or exits; this returns only
/// then (vfork), so a caller that keeps them in its frame keeps them alive. `stack` must be
/// a mapping no other process runs on, alive until B has exec'd or exited.
pub unsafe fn clone_joined<T: Sync>(
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
        stack: stack.clone_fields().0,
        stack_size: stack.clone_fields().1,
        cgroup: cgroup.map_or(0, |fd| fd as u64),
        ..CloneArgs::default()
    };
    let arg = start as *const JoinedStart<'_, T> as *mut c_void;
    // SAFETY: `args` describes the whole stack mapping the parent made for B (its guard page
    // at the bottom); B runs `entry::<T>` on it and reads `start`, alive while we are
    // suspended (vfork) and so until B has exec'd or exited. The kernel writes one i32 to
    // `launched`, an atomic the parent reads only after the report pipe's EOF.
    let ret = unsafe { clone3_raw(&args, super::vfork::entry::<T>, arg) };
    check(ret).map(drop)
}
