//! The kernel and the system calls isobox uses (**parent**): each asked in a way that changes
//! nothing (`sys::doctor`), or made the way a spawn makes it and undone (a descriptor closed).

use nix::errno::Errno;

use super::report::{Check, CheckState, Detail, Finding};
use crate::sys;
use crate::sys::mount_api::{RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS};

const FALLBACK: &str = "nothing to do: isobox falls back to older calls; a newer kernel (or a container runtime's \
     seccomp profile that allows the call) gives the faster or safer path";

/// The kernel line and one line per system call.
pub(super) fn findings(out: &mut Vec<Finding>) {
    out.push(kernel());
    out.push(syscall(Check::Clone3, "clone3", sys::doctor::clone3_exists(), Some(FALLBACK)));
    out.push(into_cgroup());
    out.push(syscall(Check::Pidfd, "pidfd_open", sys::doctor::pidfd_open_works(), Some(FALLBACK)));
    let close_range = sys::child::close_range(u32::MAX, u32::MAX, 0);
    out.push(syscall(Check::CloseRange, "close_range", close_range, Some(FALLBACK)));
    let needed = "upgrade to Linux 5.12 or later: sandboxes with a mount namespace need it";
    out.push(syscall(Check::MountSetattr, "mount_setattr", sys::doctor::mount_setattr_exists(), Some(needed)));
    out.push(openat2());
    out.push(mount_api());
}

fn kernel() -> Finding {
    let release =
        nix::sys::utsname::uname().ok().and_then(|u| u.release().to_str().map(String::from)).unwrap_or_default();
    let version = crate::kernel::parse_release(&release);
    let state = if version.is_some() { CheckState::Works } else { CheckState::Unknown };
    Finding { check: Check::Kernel, state, detail: Detail::Kernel { release, version }, fix: None }
}

/// A call's finding: ENOSYS is missing, EPERM or EACCES (a seccomp filter, an LSM) forbidden.
pub(super) fn syscall(check: Check, call: &'static str, result: Result<(), Errno>, fix: Option<&str>) -> Finding {
    let errno = result.err();
    let state = state_of(errno);
    let fix = match state {
        CheckState::Works => None,
        CheckState::Forbidden => Some(format!(
            "{call} is refused by a policy (a seccomp filter of the container or service isobox runs in, or an LSM): \
             allow it there"
        )),
        _ => fix.map(String::from),
    };
    Finding { check, state, detail: Detail::Syscall { call, errno }, fix }
}

pub(super) fn state_of(errno: Option<Errno>) -> CheckState {
    match errno {
        None => CheckState::Works,
        Some(Errno::ENOSYS | Errno::EOPNOTSUPP) => CheckState::Missing,
        Some(Errno::EPERM | Errno::EACCES) => CheckState::Forbidden,
        Some(_) => CheckState::Unknown,
    }
}

fn into_cgroup() -> Finding {
    let result = match std::fs::File::open("/dev/null") {
        Ok(null) => sys::doctor::clone_into_cgroup_exists(&null),
        Err(e) => Err(e.raw_os_error().map_or(Errno::EIO, Errno::from_raw)),
    };
    // 5.3–5.6 answer EINVAL for the unknown flag, older struct sizes E2BIG: both mean missing.
    let result = result.map_err(|e| if matches!(e, Errno::EINVAL | Errno::E2BIG) { Errno::ENOSYS } else { e });
    let fix = "nothing to do: on cgroup v2 the child then joins its cgroup right after the clone; Linux 5.7 or \
               later has it born there";
    syscall(Check::CloneIntoCgroup, "clone3(CLONE_INTO_CGROUP)", result, Some(fix))
}

fn openat2() -> Finding {
    let flags = libc::O_PATH | libc::O_DIRECTORY;
    let result = sys::mount_api::openat2(libc::AT_FDCWD, c"/", flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
        .and_then(sys::child::close);
    let fix = "upgrade to Linux 5.6 or later: mounts into a sandbox's root resolve their targets with it";
    syscall(Check::Openat2, "openat2(RESOLVE_IN_ROOT)", result, Some(fix))
}

/// fsopen("tmpfs") as a spawn's child makes it; outside a user namespace of its own an
/// unprivileged caller gets EPERM, which proves the call is there.
fn mount_api() -> Finding {
    let fix = "upgrade to Linux 5.2 or later: sandboxes with a mount namespace need the new mount API";
    match sys::mount_api::fsopen(c"tmpfs").and_then(sys::child::close) {
        Err(Errno::EPERM) if !nix::unistd::geteuid().is_root() => Finding {
            check: Check::MountApi,
            state: CheckState::Works,
            detail: Detail::InUserNamespaceOnly { call: "fsopen", errno: Errno::EPERM },
            fix: None,
        },
        result => syscall(Check::MountApi, "fsopen", result, Some(fix)),
    }
}
