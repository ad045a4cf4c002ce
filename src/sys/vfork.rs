//! Starting the program beside isobox's init (**child**): the sandbox's first process clones
//! the program with `CLONE_VM` onto a second stack the parent prepared; the program finishes
//! the recipe (filter, exec) on the plan both read, with a copy of the descriptor table.
//!
//! # Safety
//! The `unsafe` blocks are the clone itself and turning its argument back into a reference in
//! the program. The argument must outlive the program's use of it: the caller's contract
//! ([`clone_program`]).

use std::ffi::c_void;

use nix::errno::Errno;

use super::clone3::{clone3_raw, CloneArgs};
use super::raw::check;
use super::stack::Stack;

/// A second stack for a process the child starts (the program beside the init, or an exec's
/// B), as the parent mapped it (its guard page at `base`). Made only from a [`Stack`] the
/// parent holds until that process has exec'd or exited.
#[derive(Debug, Clone, Copy)]
pub struct ProgramStack {
    base: usize,
    len: usize,
}

impl ProgramStack {
    /// The whole of `stack`'s mapping; the caller keeps `stack` until the process is done.
    pub fn of(stack: &Stack) -> ProgramStack {
        ProgramStack { base: stack.base as usize, len: stack.len }
    }

    /// clone3's `stack` and `stack_size`.
    pub(super) fn clone_fields(&self) -> (u64, u64) {
        (self.base as u64, self.len as u64)
    }
}

/// What a process the child starts runs: `run(arg)`. Made by the caller in a frame that
/// outlives the process's use of it (see [`clone_program`], `join::clone_joined`).
pub struct ProgramStart<'a, T> {
    pub arg: &'a T,
    pub run: fn(&T) -> !,
}

/// Clones the program, which runs `start.run(start.arg)` on `stack`; returns its pid (in the sandbox's
/// pid namespace) and, with `want_pidfd`, a pidfd for it (close-on-exec). Async-signal-safe:
/// no allocation.
///
/// # Safety
/// `start`, and what its `arg` borrows, are read by the program after this returns: the caller must not return from that frame, nor let another process free
/// the memory holding it, before the program has exec'd or exited. The sandbox's first
/// process keeps this by exec'ing (its old stack stays mapped, owned by the parent until the
/// report pipe's EOF, which waits for the program) or exiting, never returning.
pub unsafe fn clone_program<T: Sync>(
    stack: ProgramStack,
    start: &ProgramStart<'_, T>,
    want_pidfd: bool,
) -> Result<(i32, i32), Errno> {
    let mut pidfd: libc::c_int = -1;
    let args = CloneArgs {
        flags: libc::CLONE_VM as u64 | if want_pidfd { libc::CLONE_PIDFD as u64 } else { 0 },
        pidfd: &mut pidfd as *mut libc::c_int as u64,
        exit_signal: libc::SIGCHLD as u64,
        stack: stack.clone_fields().0,
        stack_size: stack.clone_fields().1,
        ..CloneArgs::default()
    };
    let arg = start as *const ProgramStart<'_, T> as *mut c_void;
    // SAFETY: `args` describes the whole stack mapping the parent made for this (its guard
    // page at the bottom); the program runs `entry::<T>` on it and reads `start`, which the
    // caller keeps alive (this function's contract). `pidfd` is written before we return.
    let ret = unsafe { clone3_raw(&args, entry::<T>, arg) };
    check(ret).map(|pid| (pid as i32, pidfd))
}

/// The started process's first Rust code: `start.run(start.arg)`.
pub(super) extern "C" fn entry<T: Sync>(arg: *mut c_void) -> libc::c_int {
    // SAFETY: `arg` is the `ProgramStart<T>` of `clone_program` or `join::clone_joined`,
    // alive while we run (their contracts).
    let start = unsafe { &*(arg as *const ProgramStart<'_, T>) };
    (start.run)(start.arg)
}
