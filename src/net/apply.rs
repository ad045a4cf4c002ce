//! The network namespace's setup (**child**): bringing loopback up. Async-signal-safe.

use nix::errno::Errno;

use crate::sys::child as sys;

/// The interface brought up, for error messages.
pub(crate) const LOOPBACK: &str = "lo";

/// Brings loopback up when the sandbox has its own network namespace.
pub(crate) fn loopback(own_namespace: bool) -> Result<(), Errno> {
    if own_namespace {
        sys::loopback_up()
    } else {
        Ok(())
    }
}
