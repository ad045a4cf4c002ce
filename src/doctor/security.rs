//! seccomp, its user notification, and Landlock (**parent**, read-only): the kernel asked what
//! it offers, as `build()` asks Landlock's ABI.

use nix::errno::Errno;

use super::report::{Check, Detail, Finding};
use super::syscalls::{state_of, syscall};
use crate::sys::doctor::{landlock_abi, seccomp_action_available};

/// The three lines.
pub(super) fn findings(out: &mut Vec<Finding>) {
    let filter = seccomp_action_available(libc::SECCOMP_RET_ERRNO);
    let fix = "build the kernel with CONFIG_SECCOMP_FILTER=y, or turn the filter off (Seccomp::none())";
    out.push(syscall(Check::Seccomp, "seccomp(GET_ACTION_AVAIL, RET_ERRNO)", filter, Some(fix)));
    let notify = seccomp_action_available(libc::SECCOMP_RET_USER_NOTIF);
    let fix = "notify rules need Linux 5.6 or later (SECCOMP_RET_USER_NOTIF, and pidfd_getfd to take the listener)";
    out.push(syscall(Check::SeccompUserNotification, "seccomp(GET_ACTION_AVAIL, RET_USER_NOTIF)", notify, Some(fix)));
    out.push(landlock());
}

/// The ABI a sandbox's ruleset uses: the kernel's, capped at the newest isobox knows.
fn used_abi(kernel: Result<u32, Errno>) -> Option<u32> {
    #[cfg(feature = "landlock")]
    return kernel.ok().map(|abi| abi.min(crate::landlock::NEWEST_ABI));
    #[cfg(not(feature = "landlock"))]
    {
        let _ = kernel;
        None
    }
}

fn landlock() -> Finding {
    let kernel = landlock_abi();
    let used = used_abi(kernel);
    let state = state_of(kernel.err());
    let fix = match kernel {
        Err(Errno::EOPNOTSUPP) => Some(
            "Landlock is built in but not enabled: add it to the lsm= boot parameter (e.g. \
             lsm=landlock,lockdown,yama,integrity,apparmor)",
        ),
        Err(Errno::ENOSYS) => Some("build the kernel with CONFIG_SECURITY_LANDLOCK=y (Linux 5.13 or later)"),
        Err(_) => Some("a policy refuses landlock_create_ruleset: allow it"),
        Ok(_) if used.is_none() => Some("the kernel has Landlock; build isobox with the feature `landlock` to use it"),
        Ok(_) => None,
    };
    Finding { check: Check::Landlock, state, detail: Detail::Landlock { kernel, used }, fix: fix.map(String::from) }
}
