//! Starting the sandbox's program beside isobox's init (**child**): the one call of the
//! `unsafe` [`vfork::clone_program`](super::vfork::clone_program), for `child::init`.
//!
//! # Safety
//! The one `unsafe` block vouches for `child::init::start`, which makes the argument the
//! program reads and never returns from the frame holding it.

use nix::errno::Errno;

use super::vfork::{ProgramStack, ProgramStart};
use crate::child::init_shared::Shared;

/// Clones the sandbox's program beside its first process, which is about to become isobox's
/// init (`child::init`); see `vfork::clone_program`.
pub fn clone_program(
    stack: ProgramStack,
    start: &ProgramStart<'_, Shared<'_>>,
    want_pidfd: bool,
) -> Result<(i32, i32), Errno> {
    // SAFETY: `child::init::start`, the one caller, makes `start` (and the `Shared` it
    // borrows) in its own frame and, once this succeeded, never returns from it: it execs the
    // init or exits, and
    // its stack stays mapped until the report pipe's EOF, which the program's copy of the
    // write end holds back until the program has exec'd or exited (`spawn_shared`, rule 2).
    // `start.run` is `child::init::program_main`, which keeps `spawn_shared`'s child contract.
    unsafe { super::vfork::clone_program(stack, start, want_pidfd) }
}
