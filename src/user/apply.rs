//! Switching to the ids inside (**child**): groups, then gid, then uid, each only if the
//! parent decided one. Async-signal-safe: no allocation.

use nix::errno::Errno;

use super::ids::Ids;
use crate::sys::child as sys;

/// setgroups, if groups were decided.
pub(crate) fn groups(ids: &Ids) -> Result<(), Errno> {
    ids.groups.as_deref().map_or(Ok(()), sys::setgroups)
}

/// setresgid, if a gid was decided.
pub(crate) fn gid(ids: &Ids) -> Result<(), Errno> {
    ids.gid.map_or(Ok(()), sys::setgid)
}

/// setresuid, if a uid was decided.
pub(crate) fn uid(ids: &Ids) -> Result<(), Errno> {
    ids.uid.map_or(Ok(()), sys::setuid)
}
