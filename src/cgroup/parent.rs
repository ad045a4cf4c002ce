//! Where a sandbox's cgroup is created (**parent**, at spawn).

use std::path::{Path, PathBuf};

use super::error::{CgroupError, NoDelegationReason};
use super::layout::Layout;

/// The parent isobox uses for root: a cgroup of its own below each hierarchy's root.
pub const DEFAULT_ROOT_PARENT: &str = "/isobox";

const DELEGATION_HINT: &str = "run as root, or on cgroup v2 give the caller a delegated cgroup it owns \
     (e.g. `systemd-run --user --scope -p Delegate=yes`, or chown a cgroup and its cgroup.procs, \
     cgroup.subtree_control and cgroup.threads to the user) and pass it to cgroup_parent()";

/// The explicit parent if one was given, else `/isobox` for root. An unprivileged caller must
/// name one: the cgroup it is in cannot serve, since cgroup v2 hands controllers only to
/// cgroups with no processes of their own, and the caller is one.
pub(crate) fn resolve(explicit: Option<&Path>, layout: &Layout, is_root: bool) -> Result<PathBuf, CgroupError> {
    if let Some(parent) = explicit {
        return Ok(parent.to_path_buf());
    }
    if is_root {
        return Ok(PathBuf::from(DEFAULT_ROOT_PARENT));
    }
    let reason = if layout.is_pure_v2() { NoDelegationReason::NoParentGiven } else { NoDelegationReason::CgroupV1 };
    Err(CgroupError::NoDelegation { reason, hint: DELEGATION_HINT })
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
        assert_eq!(resolve(Some(Path::new("/mine")), &v1(), false).unwrap(), Path::new("/mine"));
        assert_eq!(resolve(None, &v1(), true).unwrap(), Path::new(DEFAULT_ROOT_PARENT));
    }

    #[test]
    fn unprivileged_on_v1_is_told_what_to_do() {
        let err = resolve(None, &v1(), false).unwrap_err();
        assert!(matches!(&err, CgroupError::NoDelegation { reason: NoDelegationReason::CgroupV1, .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("v1") && text.contains("Delegate=yes"), "{text}");
    }

    #[test]
    fn unprivileged_on_v2_must_name_a_delegated_parent() {
        let v2 = Layout {
            unified: Some(Hierarchy { mount: "/sys/fs/cgroup".into(), root: "/".into(), controllers: vec![] }),
            unified_controllers: vec!["memory".into()],
            v1: vec![],
        };
        let err = resolve(None, &v2, false).unwrap_err();
        assert!(matches!(&err, CgroupError::NoDelegation { reason: NoDelegationReason::NoParentGiven, .. }), "{err}");
        assert!(err.to_string().contains("cgroup_parent()"), "{err}");
        assert_eq!(resolve(Some(Path::new("/user.slice/me")), &v2, false).unwrap(), Path::new("/user.slice/me"));
    }
}
