//! The doctor's system-call probes (**parent**): each asks the kernel whether a call exists in
//! a way that changes nothing. A call the kernel lacks answers ENOSYS before looking at its
//! arguments, so most probes pass arguments the kernel refuses after that point (a size of 0,
//! a descriptor that is no cgroup) and read the errno.
//!
//! # Safety
//! Every call goes through `child::call` with integers, null, or pointers to live values of
//! the size given. The one probe that could create a process (clone3 with `CLONE_INTO_CGROUP`
//! and a descriptor that is no cgroup, which the kernel refuses with EBADF) handles a success
//! anyway: the copy exits at once with raw system calls, and the parent reaps it.

use std::os::fd::{AsRawFd, RawFd};

use nix::errno::Errno;

use super::child::{call, close, exit_group};
use super::clone3::{CloneArgs, CLONE_INTO_CGROUP};

type SysResult<T = ()> = Result<T, Errno>;

/// `SECCOMP_GET_ACTION_AVAIL` (seccomp(2), Linux 4.14).
const SECCOMP_GET_ACTION_AVAIL: usize = 2;
/// `LANDLOCK_CREATE_RULESET_VERSION`.
const LANDLOCK_VERSION: usize = 1;
/// `MOUNT_ATTR_SIZE_VER0` is 32: a size of 0 is refused with EINVAL once the call exists.
const TOO_SMALL: usize = 0;

/// clone3 with a size below the first version of its struct: EINVAL where the call exists
/// (Linux 5.3), ENOSYS where it does not (or a seccomp filter hides it, as Docker's does).
pub fn clone3_exists() -> SysResult {
    let args = CloneArgs::default();
    match call(libc::SYS_clone3, [&args as *const CloneArgs as usize, TOO_SMALL, 0, 0, 0, 0]) {
        Err(Errno::EINVAL) => Ok(()),
        Err(e) => Err(e),
        Ok(pid) => reap_or_exit(pid),
    }
}

/// clone3 with `CLONE_INTO_CGROUP` and `not_a_cgroup` (an open descriptor of no cgroup): EBADF
/// where the flag exists (Linux 5.7), EINVAL (unknown flag, 5.3–5.6) or E2BIG (a struct larger
/// than the kernel's) where it does not.
pub fn clone_into_cgroup_exists(not_a_cgroup: &impl AsRawFd) -> SysResult {
    let args = CloneArgs {
        flags: CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: not_a_cgroup.as_raw_fd() as u64,
        ..CloneArgs::default()
    };
    let size = std::mem::size_of::<CloneArgs>();
    match call(libc::SYS_clone3, [&args as *const CloneArgs as usize, size, 0, 0, 0, 0]) {
        Err(Errno::EBADF) => Ok(()),
        Err(e) => Err(e),
        Ok(pid) => reap_or_exit(pid),
    }
}

/// A clone the kernel should have refused went through: the copy ends at once (it makes only
/// raw system calls, as a child of a multi-threaded process must), the parent reaps it.
fn reap_or_exit(pid: usize) -> SysResult {
    if pid == 0 {
        exit_group(0);
    }
    let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid as i32), None);
    Ok(())
}

/// pidfd_open(2) of this process (Linux 5.3); the descriptor is closed again.
pub fn pidfd_open_works() -> SysResult {
    let fd = call(libc::SYS_pidfd_open, [std::process::id() as usize, 0, 0, 0, 0, 0])?;
    close(fd as RawFd)
}

/// mount_setattr(2) (Linux 5.12) with a size of 0: EINVAL where it exists, before any
/// permission check.
pub fn mount_setattr_exists() -> SysResult {
    let flags = libc::AT_EMPTY_PATH as usize;
    match call(libc::SYS_mount_setattr, [-1i32 as usize, c"".as_ptr() as usize, flags, 0, TOO_SMALL, 0]) {
        Err(Errno::EINVAL) => Ok(()),
        Err(e) => Err(e),
        Ok(_) => Ok(()),
    }
}

/// Whether seccomp can return `action` (a `SECCOMP_RET_*`): Ok where it can, EOPNOTSUPP where
/// the kernel knows seccomp but not the action, EINVAL or ENOSYS without seccomp filters.
pub fn seccomp_action_available(action: u32) -> SysResult {
    call(libc::SYS_seccomp, [SECCOMP_GET_ACTION_AVAIL, 0, &action as *const u32 as usize, 0, 0, 0]).map(drop)
}

/// The kernel's Landlock ABI (Linux 5.13): ENOSYS without Landlock, EOPNOTSUPP when it is
/// built in but not enabled at boot.
pub fn landlock_abi() -> SysResult<u32> {
    let version = call(libc::SYS_landlock_create_ruleset, [0, 0, LANDLOCK_VERSION, 0, 0, 0])?;
    Ok(u32::try_from(version).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_kernel_has_every_call_the_doctor_asks_about() {
        // The host and the VM run 6.x kernels, which have all of them.
        assert_eq!(clone3_exists(), Ok(()));
        let null = std::fs::File::open("/dev/null").unwrap();
        assert_eq!(clone_into_cgroup_exists(&null), Ok(()));
        assert_eq!(pidfd_open_works(), Ok(()));
        assert_eq!(mount_setattr_exists(), Ok(()));
        assert_eq!(seccomp_action_available(libc::SECCOMP_RET_USER_NOTIF), Ok(()));
        assert_eq!(seccomp_action_available(0x1234_0000), Err(Errno::EOPNOTSUPP));
    }
}
