//! A seccomp filter that cannot work, found at `build()` (public; **parent**). The crate's
//! `ConfigError` rolls it up.

use nix::errno::Errno;

/// Why a [`Seccomp`](crate::Seccomp) filter was refused at `build()`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SeccompError {
    /// A filter is installed only with no_new_privs (or CAP_SYS_ADMIN), and no_new_privs is off.
    #[error(
        "a seccomp filter with notify rules, or in a sandbox with isobox's init, needs no_new_privs or CAP_SYS_ADMIN: keep no_new_privs(true), keep Capabilities::SYS_ADMIN, turn the init off (init(false): then, in a user namespace or for a root caller, the filter is installed before the capabilities are dropped), or pass Seccomp::none() to run without a filter"
    )]
    NeedsNoNewPrivs,
    /// [`Seccomp::from_bpf`](crate::Seccomp::from_bpf) with no instructions.
    #[error("the BPF program is empty")]
    EmptyProgram,
    /// A program longer than the kernel takes (user rules spread over very many numbers, or a
    /// long program of the user's).
    #[error("the seccomp program is {len} instructions; at most {max} fit")]
    ProgramTooLong {
        /// Its length.
        len: usize,
        /// The most that fit (the kernel's 4096, less isobox's prologue for a user's program).
        max: usize,
    },
    /// `allow`/`deny` rules on a program of the user's, which isobox cannot change.
    #[error("{rules} allow/deny rule(s) on a program from Seccomp::from_bpf: compile them into the program")]
    RulesOnBpf {
        /// How many rules were given.
        rules: usize,
    },
    /// A rule for a number that is no system call number of this target's.
    #[error("{nr} is not a system call number (0 to 0x3fffffff)")]
    BadNumber {
        /// The number given.
        nr: i64,
    },
    /// A deny rule whose errno is out of the range the kernel returns (0 would fake success).
    #[error("deny({nr}, {errno}): the errno must be 1 to 4095")]
    BadErrno {
        /// The system call.
        nr: i64,
        /// The errno given.
        errno: Errno,
    },
    /// A deny rule for a system call isobox makes after installing the filter.
    #[error("system call {nr} ({name}) cannot be denied: isobox makes it after the filter is installed, to exec the program or to report a failed exec")]
    NeededToExec {
        /// Its number.
        nr: i64,
        /// Its name.
        name: &'static str,
    },
    /// A notify rule for a system call isobox makes after installing the filter, before the
    /// parent holds the listener (it would wait for an answer nobody can give yet).
    #[error("system call {nr} ({name}) cannot be notified: isobox makes it after the filter is installed, before the listener is handed over")]
    CannotNotify {
        /// Its number.
        nr: i64,
        /// Its name.
        name: &'static str,
    },
}
