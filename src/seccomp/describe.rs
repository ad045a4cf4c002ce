//! A filter the kernel refused to install, in words (**parent**).

use nix::errno::Errno;

/// Why installing the filter failed, where the host or the program is the likely cause.
pub(crate) fn hint(errno: Errno) -> Option<&'static str> {
    match errno {
        Errno::EINVAL => Some(
            "the kernel refused the filter: a program from Seccomp::from_bpf must be valid classic BPF for seccomp \
             (known opcodes, jumps inside the program, ending in a return), and the kernel needs CONFIG_SECCOMP_FILTER",
        ),
        Errno::EACCES => Some("installing a seccomp filter needs no_new_privs or CAP_SYS_ADMIN"),
        Errno::ENOMEM => Some("the filters stacked on this process exceed the kernel's limit of 32768 instructions"),
        Errno::EBUSY => Some(
            "notify rules need a listener, and this process already runs under a seccomp filter with one (a sandbox \
             or container that intercepts system calls): the kernel allows one listener per filter stack",
        ),
        _ => None,
    }
}

/// Why the parent could not copy the child's listener with pidfd_getfd.
pub(crate) fn take_listener_hint(errno: Errno) -> Option<&'static str> {
    match errno {
        Errno::ENOSYS => Some("seccomp notify rules need pidfd_getfd (Linux 5.6) and a pidfd of the child (Linux 5.2)"),
        Errno::EPERM | Errno::EACCES => Some(
            "pidfd_getfd needs ptrace rights over the child: Yama's ptrace_scope (2 or 3), or an LSM policy, may forbid them",
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_listener_on_the_stack_gets_a_hint() {
        assert!(hint(Errno::EBUSY).is_some_and(|h| h.contains("one listener")));
        assert_eq!(hint(Errno::ESRCH), None);
    }
}
