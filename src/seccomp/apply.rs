//! Installing the filter (**child**), the last step before exec. Async-signal-safe: one raw
//! system call over the program the parent compiled; no allocation.

use nix::errno::Errno;

use super::plan::SeccompPlan;
use crate::sys::seccomp as sys;

/// seccomp(SECCOMP_SET_MODE_FILTER) with the plan's program; nothing without one. The kernel
/// copies the program, so the plan need not outlive the call.
pub(crate) fn install(plan: &SeccompPlan) -> Result<(), Errno> {
    if plan.program.is_empty() {
        return Ok(());
    }
    sys::set_mode_filter(&plan.program)
}
