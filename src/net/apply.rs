//! The network namespace's setup (**child**): bringing loopback up. Async-signal-safe.

use nix::errno::Errno;

use super::plan::NetPlan;
use crate::sys::child as sys;

/// Brings loopback up when the sandbox has its own network namespace.
pub(crate) fn loopback(plan: &NetPlan) -> Result<(), Errno> {
    if plan.loopback {
        sys::loopback_up()
    } else {
        Ok(())
    }
}
