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
            sys::setgid(gid)?;
            sys::setuid(uid)?;
            // A change of ids makes the process undumpable, which hands its /proc/self files
            // (timens_offsets, uid_map…) to host root; it is still the same sandbox.
            sys::prctl(libc::PR_SET_DUMPABLE, 1)
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
