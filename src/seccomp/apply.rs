//! Installing the filter (**child**), the last step before exec. Async-signal-safe: one raw
//! system call over the program the parent compiled; no allocation.

use std::os::fd::RawFd;

use nix::errno::Errno;

use super::plan::SeccompPlan;
use crate::sys::seccomp as sys;

/// seccomp(SECCOMP_SET_MODE_FILTER) with the plan's program; nothing without one. With a
/// notify rule, `spawn_program` is this spawn's copy of the program (its prologue names the
/// spawn's pipes; `SeccompPlan::for_spawn`), installed with a new listener, whose descriptor
/// is returned. The kernel copies the program, so it need not outlive the call.
pub(crate) fn install(plan: &SeccompPlan, spawn_program: Option<&[libc::sock_filter]>) -> Result<Option<RawFd>, Errno> {
    match spawn_program {
        Some(program) if plan.notify => sys::set_mode_filter_listener(program).map(Some),
        // A plan with notify rules always comes with its spawn's program; without, it would
        // trap the child's own last calls.
        None if plan.notify => Err(Errno::EINVAL),
        _ if plan.program.is_empty() => Ok(None),
        _ => sys::set_mode_filter(&plan.program).map(|()| None),
    }
}
