//! Setting the hostname and NIS domain name (**child**). Async-signal-safe: no allocation.

use nix::errno::Errno;

use super::plan::UtsPlan;
use crate::sys::child as sys;

/// sethostname, if a hostname was asked for.
pub(crate) fn hostname(plan: &UtsPlan) -> Result<(), Errno> {
    plan.hostname.as_deref().map_or(Ok(()), sys::sethostname)
}

/// setdomainname, if a domain name was asked for.
pub(crate) fn domainname(plan: &UtsPlan) -> Result<(), Errno> {
    plan.domainname.as_deref().map_or(Ok(()), sys::setdomainname)
}
