//! A spawn that failed in the parent, in words (**parent**): which part, the errno, and a
//! hint where the host is the likely cause.

use nix::errno::Errno;

use crate::build::SandboxPlan;
use crate::error::{Error, SpawnError};
use crate::namespaces::Namespaces;
use crate::sys::vmclone::SpawnFailure;
use crate::time;

/// The error for a clone, stack or control-pipe failure.
pub(crate) fn spawn_failure(failure: SpawnFailure, sandbox: &SandboxPlan) -> Error {
    let ns = sandbox.namespaces;
    match failure {
        SpawnFailure::Clone(e) => {
            let errno = Errno::from_raw(e.raw_os_error().unwrap_or(0));
            let hint = clone_hint(errno, ns, sandbox.caller.is_root());
            SpawnError::Clone { namespaces: ns, errno, hint }.into()
        }
        SpawnFailure::Stack(e) => SpawnError::io("mapping the child's stack")(e).into(),
        SpawnFailure::Control(e) => SpawnError::io("talking to the child over its control pipes")(e).into(),
    }
}

/// The hint for a failed clone, from the errno and the namespaces asked for.
pub(crate) fn clone_hint(errno: Errno, namespaces: Namespaces, is_root: bool) -> Option<&'static str> {
    let user = namespaces.contains(Namespaces::USER);
    match errno {
        Errno::EPERM | Errno::EACCES if user => Some(
            "creating a user namespace was refused. Enable unprivileged user namespaces: \
             `sysctl -w kernel.unprivileged_userns_clone=1` (Debian/older kernels), \
             `sysctl -w user.max_user_namespaces=15000` if it is 0, and on Ubuntu 23.10+ \
             `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` or an AppArmor profile \
             allowing userns for this program; inside a container, the runtime's seccomp profile \
             may also block it",
        ),
        Errno::EPERM if !is_root => {
            Some("namespaces other than USER need CAP_SYS_ADMIN: add Namespaces::USER or run as root")
        }
        Errno::ENOSPC => Some(
            "a namespace limit was reached: raise /proc/sys/user/max_*_namespaces \
             (e.g. `sysctl -w user.max_user_namespaces=15000`)",
        ),
        Errno::EINVAL if namespaces.contains(Namespaces::TIME) => Some(time::describe::KERNEL_HINT),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userns_eperm_names_the_sysctls() {
        let hint = clone_hint(Errno::EPERM, Namespaces::USER, false).unwrap();
        assert!(hint.contains("kernel.unprivileged_userns_clone"));
        assert!(hint.contains("user.max_user_namespaces"));
        assert!(hint.contains("apparmor_restrict_unprivileged_userns"));
        assert!(clone_hint(Errno::EPERM, Namespaces::PID, false).unwrap().contains("Namespaces::USER"));
        assert_eq!(clone_hint(Errno::EPERM, Namespaces::PID, true), None);
    }

    #[test]
    fn the_time_namespace_hint_names_the_kernel_the_gate_needs() {
        let hint = clone_hint(Errno::EINVAL, Namespaces::TIME, true).unwrap();
        let (major, minor) = crate::kernel::TIME_NAMESPACE_AT_EXEC;
        assert!(hint.contains(&format!("Linux {major}.{minor}")), "{hint}");
    }
}
