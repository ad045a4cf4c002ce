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
        _ => None,
    }
}
