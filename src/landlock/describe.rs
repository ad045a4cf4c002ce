//! A Landlock failure in words (**parent**): the rule's path from the parent's copy of the
//! plan, and what to do about it.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use nix::errno::Errno;

use super::error::unsupported_hint;
use super::plan::LandlockPlan;

/// The path of the rule a failed Landlock step was adding (none for the ruleset itself), and
/// a hint.
pub(crate) fn failure(
    plan: Option<&LandlockPlan>,
    index: usize,
    errno: Errno,
) -> (Option<PathBuf>, Option<&'static str>) {
    match plan.and_then(|p| p.paths.get(index)) {
        Some(rule) => (Some(PathBuf::from(OsStr::from_bytes(rule.path.to_bytes()))), path_hint(errno)),
        None => (None, ruleset_hint(errno)),
    }
}

fn path_hint(errno: Errno) -> Option<&'static str> {
    match errno {
        Errno::ENOENT => Some(
            "the path does not exist inside the sandbox: Landlock rules name paths as the sandbox sees them, after \
             its mounts",
        ),
        Errno::ENOTDIR => Some("a component of the path is not a directory inside the sandbox"),
        Errno::ELOOP => Some(
            "the path goes through a symbolic link inside the sandbox, which a rule never follows (a link in an \
             untrusted root could widen it): name the path the link points to, e.g. /usr/bin for /bin",
        ),
        Errno::EACCES => Some("the path cannot be looked up inside the sandbox (no search permission on a parent)"),
        Errno::ENOMSG => Some(
            "the path is not a directory, and its rule allows no right that applies to a file (EXECUTE, \
             WRITE_FILE, READ_FILE, TRUNCATE, IOCTL_DEV)",
        ),
        _ => None,
    }
}

fn ruleset_hint(errno: Errno) -> Option<&'static str> {
    match errno {
        Errno::EPERM => Some("Landlock needs no_new_privs or CAP_SYS_ADMIN in the sandbox's user namespace"),
        Errno::E2BIG => Some("the caller is already confined by 16 nested Landlock rulesets, the kernel's limit"),
        _ => unsupported_hint(errno),
    }
}

/// An exec that Landlock may have refused.
pub(crate) fn exec_hint(plan: Option<&LandlockPlan>, errno: Errno) -> Option<&'static str> {
    (plan.is_some() && errno == Errno::EACCES).then_some(
        "with Landlock, the program needs EXECUTE on its path (and a dynamic one on its ELF interpreter): allow it \
         with Landlock::read_exec",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landlock::plan::{PathRulePlan, RULESET_INDEX};
    use crate::sys::landlock::RulesetAttr;

    fn plan() -> LandlockPlan {
        let rule = PathRulePlan { path: c"/data".into(), access: 1, file_access: 1 };
        LandlockPlan { abi: 7, attr: RulesetAttr::default(), paths: vec![rule], ports: Vec::new() }
    }

    #[test]
    fn a_failed_rule_names_its_path_and_a_missing_one_says_it_is_not_inside() {
        let (path, hint) = failure(Some(&plan()), 0, Errno::ENOENT);
        assert_eq!(path, Some(PathBuf::from("/data")));
        assert!(hint.unwrap().contains("does not exist inside the sandbox"), "{hint:?}");
        let (path, hint) = failure(Some(&plan()), RULESET_INDEX, Errno::EPERM);
        assert_eq!(path, None);
        assert!(hint.unwrap().contains("no_new_privs"), "{hint:?}");
        assert!(failure(Some(&plan()), 0, Errno::ENOMSG).1.unwrap().contains("not a directory"));
    }

    #[test]
    fn an_exec_landlock_refused_is_told_what_to_allow() {
        assert!(exec_hint(Some(&plan()), Errno::EACCES).unwrap().contains("EXECUTE"));
        assert_eq!(exec_hint(None, Errno::EACCES), None);
        assert_eq!(exec_hint(Some(&plan()), Errno::ENOEXEC), None);
    }
}
