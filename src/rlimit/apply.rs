//! Setting the rlimits (**child**), in order. Async-signal-safe: no allocation.

use nix::errno::Errno;

use super::spec::Rlimit;
use crate::sys::child as sys;

/// prlimit64 for each limit; a failure says which one, by index.
pub(crate) fn set_all(rlimits: &[Rlimit]) -> Result<(), (usize, Errno)> {
    for (index, r) in rlimits.iter().enumerate() {
        sys::setrlimit(r.resource.raw(), r.soft, r.hard).map_err(|errno| (index, errno))?;
    }
    Ok(())
}
