//! Where a sandbox's cgroup is created (**parent**, at spawn).

use std::path::{Path, PathBuf};

use super::layout::{dir_of, own_cgroup, Layout};
use crate::error::CgroupError;

/// The parent isobox uses for root: a cgroup of its own below each hierarchy's root.
pub const DEFAULT_ROOT_PARENT: &str = "/isobox";

const DELEGATION_HINT: &str = "run as root, or on cgroup v2 give the caller a delegated cgroup it owns \
     (e.g. `systemd-run --user --scope -p Delegate=yes`, or chown a cgroup and its cgroup.procs, \
     cgroup.subtree_control and cgroup.threads to the user) and pass it to cgroup_parent()";

/// The explicit parent if one was given, else `/isobox` for root, else (unprivileged, v2 only)
/// the cgroup the caller is in, which must be one it owns.
pub(crate) fn resolve(
    explicit: Option<&Path>,
    layout: &Layout,
    is_root: bool,
    proc_self_cgroup: &str,
) -> Result<PathBuf, CgroupError> {
    if let Some(parent) = explicit {
        return Ok(parent.to_path_buf());
    }
    if is_root {
        return Ok(PathBuf::from(DEFAULT_ROOT_PARENT));
    }
    let no = |reason: String| CgroupError::NoDelegation { reason, hint: DELEGATION_HINT };
    if !layout.is_pure_v2() {
        return Err(no("cgroup v1 cannot be delegated to an unprivileged user safely".into()));
    }
    let unified = layout.unified.as_ref().ok_or_else(|| no("there is no cgroup v2 hierarchy".into()))?;
    let own = own_cgroup(proc_self_cgroup, None).ok_or_else(|| no("/proc/self/cgroup has no v2 entry".into()))?;
    let procs = dir_of(unified, &own).join("cgroup.procs");
    if nix::unistd::access(&procs, nix::unistd::AccessFlags::W_OK).is_err() {
        return Err(no(format!(
            "the caller does not own its cgroup {} ({} is not writable)",
            own.display(),
            procs.display()
        )));
    }
    Ok(own)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::layout::Hierarchy;

    fn v1() -> Layout {
        let h =
            Hierarchy { mount: "/sys/fs/cgroup/memory".into(), root: "/".into(), controllers: vec!["memory".into()] };
        Layout { unified: None, unified_controllers: vec![], v1: vec![h] }
    }

    #[test]
    fn explicit_wins_and_root_gets_isobox() {
        assert_eq!(resolve(Some(Path::new("/mine")), &v1(), false, "").unwrap(), Path::new("/mine"));
        assert_eq!(resolve(None, &v1(), true, "").unwrap(), Path::new(DEFAULT_ROOT_PARENT));
    }

    #[test]
    fn unprivileged_on_v1_is_told_what_to_do() {
        let err = resolve(None, &v1(), false, "4:memory:/x\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("v1") && text.contains("Delegate=yes"), "{text}");
    }
}
