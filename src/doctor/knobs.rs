//! The host's sysctl knobs for unprivileged user namespaces (**parent**, read-only).

use super::report::{Check, CheckState, Detail, Finding, Knob};

/// Debian's and older Ubuntu's patch: 0 refuses user namespaces to every non-root user.
pub(super) const UNPRIVILEGED_USERNS_CLONE: &str = "kernel.unprivileged_userns_clone";
/// 0 refuses new user namespaces to everyone, root included.
pub(super) const MAX_USER_NAMESPACES: &str = "user.max_user_namespaces";
/// Ubuntu 23.10 and later: 1 lets unprivileged users create user namespaces only with no
/// capability in them, unless an AppArmor profile allows the program.
pub(super) const APPARMOR_RESTRICT: &str = "kernel.apparmor_restrict_unprivileged_userns";

const ALL: [&str; 3] = [UNPRIVILEGED_USERNS_CLONE, MAX_USER_NAMESPACES, APPARMOR_RESTRICT];

/// The value of sysctl `name` (`a.b` is /proc/sys/a/b), `None` if the kernel has no such knob.
pub(super) fn read(name: &str) -> Option<String> {
    let path = format!("/proc/sys/{}", name.replace('.', "/"));
    std::fs::read_to_string(path).ok().map(|v| v.trim().to_string())
}

/// The three knobs as read now.
pub(super) fn userns_knobs() -> Vec<Knob> {
    ALL.iter().map(|&name| Knob { name, value: read(name) }).collect()
}

/// The knob that refuses user namespaces to this caller and how to change it, if one does.
pub(super) fn userns_policy_fix(knobs: &[Knob], is_root: bool) -> Option<String> {
    let value = |name: &str| knobs.iter().find(|k| k.name == name).and_then(|k| k.value.as_deref());
    if value(MAX_USER_NAMESPACES) == Some("0") {
        return Some(format!(
            "{MAX_USER_NAMESPACES} is 0: sysctl -w {MAX_USER_NAMESPACES}=15000 (and in /etc/sysctl.d)"
        ));
    }
    if is_root {
        return None;
    }
    if value(UNPRIVILEGED_USERNS_CLONE) == Some("0") {
        return Some(format!(
            "{UNPRIVILEGED_USERNS_CLONE} is 0: sysctl -w {UNPRIVILEGED_USERNS_CLONE}=1 (and in /etc/sysctl.d), or run as root"
        ));
    }
    if value(APPARMOR_RESTRICT) == Some("1") {
        return Some(format!(
            "{APPARMOR_RESTRICT} is 1: give the program an AppArmor profile with `userns,`, or sysctl -w \
             {APPARMOR_RESTRICT}=0"
        ));
    }
    None
}

/// The host's policy for unprivileged callers: forbidden if a knob says so.
pub(super) fn finding() -> Finding {
    let knobs = userns_knobs();
    let fix = userns_policy_fix(&knobs, false);
    let state = if fix.is_some() { CheckState::Forbidden } else { CheckState::Works };
    Finding { check: Check::UnprivilegedUserNamespaces, state, detail: Detail::Knobs(knobs), fix }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn knobs(clone: Option<&str>, max: Option<&str>, apparmor: Option<&str>) -> Vec<Knob> {
        let values = [clone, max, apparmor];
        ALL.iter().zip(values).map(|(&name, v)| Knob { name, value: v.map(String::from) }).collect()
    }

    #[test]
    fn each_knob_that_forbids_is_named() {
        assert_eq!(userns_policy_fix(&knobs(Some("1"), Some("100"), None), false), None);
        assert_eq!(userns_policy_fix(&knobs(None, None, None), false), None);
        let clone = userns_policy_fix(&knobs(Some("0"), Some("100"), None), false).unwrap();
        assert!(clone.starts_with("kernel.unprivileged_userns_clone is 0"), "{clone}");
        let max = userns_policy_fix(&knobs(Some("1"), Some("0"), None), true).unwrap();
        assert!(max.starts_with("user.max_user_namespaces is 0"), "{max}");
        let apparmor = userns_policy_fix(&knobs(None, Some("100"), Some("1")), false).unwrap();
        assert!(apparmor.contains("AppArmor"), "{apparmor}");
        // Root is refused by the maximum only.
        assert_eq!(userns_policy_fix(&knobs(Some("0"), Some("100"), Some("1")), true), None);
    }

    #[test]
    fn sysctl_names_map_to_proc_sys_files() {
        let expected = std::fs::read_to_string("/proc/sys/user/max_user_namespaces").ok().map(|v| v.trim().to_string());
        assert_eq!(read(MAX_USER_NAMESPACES), expected);
        assert_eq!(read("kernel.isobox_no_such_knob"), None);
    }
}
