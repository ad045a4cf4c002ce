//! Switching to the ids inside (**child**): groups, then gid, then uid, each only if the
//! parent decided one. Async-signal-safe: no allocation.

use nix::errno::Errno;

use super::ids::Ids;
use crate::sys::child as sys;

/// Right after the maps are written: becomes the sandbox's root (gid, then uid, inside), so
/// that what the child creates has an owner inside and no host identity leaks in.
pub(crate) fn setup_ids(ids: Option<(u32, u32)>) -> Result<(), Errno> {
    match ids {
        Some((uid, gid)) => {
            // This makes the shared memory undumpable (its /proc files become host root's):
            // whatever needs /proc/self comes before it, and the parent restores its own flag.
            sys::setgid(gid)?;
            sys::setuid(uid)
        }
        None => Ok(()),
    }
}

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
