//! System calls by name and number on the build target (**parent**: plain data, public type).
//!
//! Numbers come from `libc::SYS_*` for the target (x86_64 or aarch64). The few the libc crate
//! does not define yet are defined in [`nr`]: since Linux 5.1 (pidfd_send_signal, 424) every
//! new system call has the same number on every architecture, so one value serves both.

use std::fmt;

/// A system call of the build target (x86_64 or aarch64): its name and its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Syscall {
    /// "SYS_mount", as the constant is spelled.
    constant: &'static str,
    nr: i64,
}

impl Syscall {
    pub(crate) const fn new(constant: &'static str, nr: i64) -> Syscall {
        Syscall { constant, nr }
    }

    /// Its name, as in the man pages: `"mount"`.
    #[must_use]
    pub fn name(self) -> &'static str {
        self.constant.strip_prefix("SYS_").unwrap_or(self.constant)
    }

    /// Its number on the build target, as `libc::SYS_mount` spells it.
    #[must_use]
    pub fn number(self) -> i64 {
        self.nr
    }
}

impl fmt::Display for Syscall {
    /// `mount (165)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.nr)
    }
}

/// `libc::SYS_*`, plus the numbers the libc crate lacks (a local constant shadows libc's once
/// libc defines it too).
#[allow(non_upper_case_globals)]
pub(crate) mod nr {
    pub(crate) use libc::*;

    /// io_pgetevents (Linux 4.18) predates the common numbering.
    #[cfg(target_arch = "x86_64")]
    pub(crate) const SYS_io_pgetevents: i64 = 333;
    #[cfg(target_arch = "aarch64")]
    pub(crate) const SYS_io_pgetevents: i64 = 292;
    pub(crate) const SYS_cachestat: i64 = 451;
    pub(crate) const SYS_fchmodat2: i64 = 452;
    pub(crate) const SYS_map_shadow_stack: i64 = 453;
    pub(crate) const SYS_futex_wake: i64 = 454;
    pub(crate) const SYS_futex_wait: i64 = 455;
    pub(crate) const SYS_futex_requeue: i64 = 456;
    pub(crate) const SYS_statmount: i64 = 457;
    pub(crate) const SYS_listmount: i64 = 458;
    pub(crate) const SYS_lsm_get_self_attr: i64 = 459;
    pub(crate) const SYS_lsm_set_self_attr: i64 = 460;
    pub(crate) const SYS_lsm_list_modules: i64 = 461;
    pub(crate) const SYS_setxattrat: i64 = 463;
    pub(crate) const SYS_getxattrat: i64 = 464;
    pub(crate) const SYS_listxattrat: i64 = 465;
    pub(crate) const SYS_removexattrat: i64 = 466;
    pub(crate) const SYS_open_tree_attr: i64 = 467;
    pub(crate) const SYS_file_getattr: i64 = 468;
    pub(crate) const SYS_file_setattr: i64 = 469;
}

/// `syscalls![SYS_read, SYS_write]`: a `&[Syscall]` of those constants of [`nr`].
macro_rules! syscalls {
    ($($sys:ident),* $(,)?) => {
        &[$($crate::seccomp::syscalls::Syscall::new(stringify!($sys), $crate::seccomp::syscalls::nr::$sys)),*]
    };
}
pub(crate) use syscalls;
