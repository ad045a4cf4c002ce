//! Entering the time namespace (**child**): unshare it, then write its offsets, which apply
//! only while no process is in it yet; the program enters it at exec. Async-signal-safe.

use nix::errno::Errno;

use super::plan::TimePlan;
use crate::sys::child as sys;

/// unshare(CLONE_NEWTIME), if asked for.
pub(crate) fn unshare(plan: &TimePlan) -> Result<(), Errno> {
    sys::unshare(plan.unshare)
}

/// Writes the offsets to /proc/self/timens_offsets, if any.
pub(crate) fn write_offsets(plan: &TimePlan) -> Result<(), Errno> {
    match &plan.offsets {
        Some(text) => sys::write_file_at(libc::AT_FDCWD, OFFSETS_FILE, text.to_bytes()),
        None => Ok(()),
    }
}

/// Where the offsets go.
pub(crate) const OFFSETS_FILE: &std::ffi::CStr = c"/proc/self/timens_offsets";
