//! A failed exec into a live sandbox, in words (**parent**): hints for the steps of its own.

use nix::errno::Errno;

/// Why joining the sandbox's namespaces failed, where the host is the likely cause.
pub(crate) fn setns_hint(errno: Errno) -> Option<&'static str> {
    match errno {
        Errno::EINVAL => Some("setns through a pidfd with several namespaces needs Linux 5.8 or later"),
        Errno::EPERM => Some(
            "the caller may not join these namespaces: it needs ptrace access to the sandbox's first process \
             (a security module may deny it) and CAP_SYS_ADMIN over them",
        ),
        _ => None,
    }
}

/// Why starting the process inside the sandbox failed.
pub(crate) fn start_hint(errno: Errno) -> Option<&'static str> {
    match errno {
        Errno::EAGAIN => Some("the sandbox's pids limit (pids_max) or the caller's RLIMIT_NPROC is reached"),
        Errno::ENOMEM => Some("the sandbox's pid namespace is ending (its first process exited), or memory is short"),
        Errno::ENODEV | Errno::ENOENT => Some("the sandbox's cgroup was removed: the sandbox has ended"),
        Errno::EBUSY => {
            Some("the sandbox's cgroup is no longer a leaf: its program made child cgroups and enabled controllers")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_likely_host_causes_get_hints() {
        assert!(setns_hint(Errno::EINVAL).unwrap().contains("5.8"));
        assert!(setns_hint(Errno::EPERM).unwrap().contains("ptrace"));
        assert!(start_hint(Errno::EAGAIN).unwrap().contains("pids_max"));
        assert_eq!((setns_hint(Errno::EIO), start_hint(Errno::EIO)), (None, None));
    }
}
