//! Dropping and keeping capabilities (**child**): the ambient set cleared and the bounding set
//! cut down before the uid switch, the capset and the ambient raise after it.
//! Async-signal-safe: raw system calls over the plan's arrays, no allocation.

use nix::errno::Errno;

use super::plan::CapsPlan;
use crate::sys::caps as sys;
use crate::user::ids::Ids;

/// PR_CAP_AMBIENT_CLEAR_ALL: nothing of the caller's ambient set reaches the program.
pub(crate) fn clear_ambient() -> Result<(), Errno> {
    sys::prctl(libc::PR_CAP_AMBIENT, [libc::PR_CAP_AMBIENT_CLEAR_ALL as usize, 0, 0, 0])
}

/// PR_CAPBSET_DROP for each capability not kept. Needs CAP_SETPCAP, which a switch to a
/// non-zero uid takes away, so this runs first. The failure says which capability.
pub(crate) fn drop_bounding(plan: &CapsPlan) -> Result<(), (usize, Errno)> {
    for (index, cap) in plan.drop_bounding.iter().enumerate() {
        sys::prctl(libc::PR_CAPBSET_DROP, [*cap as usize, 0, 0, 0]).map_err(|errno| (index, errno))?;
    }
    Ok(())
}

/// PR_SET_KEEPCAPS when capabilities are kept and the uid switches to a non-zero one, which
/// would otherwise clear the permitted set (a switch from a non-zero uid keeps it anyway).
pub(crate) fn keep_caps(plan: &CapsPlan, ids: &Ids) -> Result<(), Errno> {
    if plan.keeps_any() && ids.uid.is_some_and(|uid| uid != 0) {
        sys::prctl(libc::PR_SET_KEEPCAPS, [1, 0, 0, 0])?;
    }
    Ok(())
}

/// capset after the uid switch (which clears the effective set): effective = permitted =
/// kept, inheritable = ambient.
pub(crate) fn set(plan: &CapsPlan) -> Result<(), Errno> {
    sys::capset(&plan.capset)
}

/// PR_CAP_AMBIENT_RAISE for each ambient capability, so a non-root program keeps it across
/// exec. The failure says which capability.
pub(crate) fn raise_ambient(plan: &CapsPlan) -> Result<(), (usize, Errno)> {
    for (index, cap) in plan.ambient.iter().enumerate() {
        let args = [libc::PR_CAP_AMBIENT_RAISE as usize, *cap as usize, 0, 0];
        sys::prctl(libc::PR_CAP_AMBIENT, args).map_err(|errno| (index, errno))?;
    }
    Ok(())
}
