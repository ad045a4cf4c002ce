//! Whether a pooled sandbox can work with the sandbox's filter (**parent**, at pool creation).
//! The filter is installed while the sandbox waits in the pool, so every call isobox's waiter
//! makes after it (execute the waiter, receive the command, move descriptors, chdir, exec, and
//! report a failure) must be allowed, and for a sandbox whose command runs beside it without
//! an init, the holding waiter's watch (acknowledge, then `ppoll`). (With an init, the init
//! holds the sandbox, under its own filter, not the sandbox's.)

use crate::pool::error::PoolError;
use crate::seccomp::interp::{self, Call};
use crate::seccomp::plan::SeccompPlan;

/// `SECCOMP_RET_ALLOW`.
const ALLOW: u32 = 0x7fff_0000;
/// `SECCOMP_RET_ACTION_FULL` and `SECCOMP_RET_ERRNO`.
const RET_ACTION: u32 = 0xffff_0000;
const RET_ERRNO: u32 = 0x0005_0000;

/// The calls, with the arguments an argument check would look at.
fn waiter_calls() -> [Call; 13] {
    let cloexec = libc::O_CLOEXEC as u64;
    let (rw, private_anon) =
        ((libc::PROT_READ | libc::PROT_WRITE) as u64, (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS) as u64);
    [
        Call::native(libc::SYS_prctl, &[libc::PR_SET_NAME as u64, 0]),
        Call::native(libc::SYS_mmap, &[0, 4096, rw, private_anon, u64::MAX, 0]),
        Call::native(libc::SYS_prlimit64, &[0, libc::RLIMIT_NOFILE as u64, 0, 0]),
        Call::native(libc::SYS_execveat, &[3, 0, 0, 0, libc::AT_EMPTY_PATH as u64]),
        Call::native(libc::SYS_close_range, &[0, u32::MAX as u64, 0]),
        Call::native(libc::SYS_recvmsg, &[3, 0, libc::MSG_CMSG_CLOEXEC as u64]),
        Call::native(libc::SYS_read, &[3, 0, 1]),
        Call::native(libc::SYS_dup3, &[3, 4, cloexec]),
        Call::native(libc::SYS_dup3, &[4, 0, 0]),
        Call::native(libc::SYS_chdir, &[0]),
        Call::native(libc::SYS_execve, &[0, 0, 0]),
        Call::native(libc::SYS_write, &[3, 0, 12]),
        Call::native(libc::SYS_exit_group, &[127]),
    ]
}

/// The holding waiter's calls after it got the command's pidfd (`src/sys/init/watch.rs`), in a
/// sandbox without an init.
fn watch_calls() -> [Call; 4] {
    [
        Call::native(libc::SYS_close_range, &[0, 2, 0]),
        Call::native(libc::SYS_prctl, &[libc::PR_SET_DUMPABLE as u64, 0]),
        Call::native(libc::SYS_write, &[3, 0, 1]),
        Call::native(libc::SYS_ppoll, &[0, 2, 0, 0, 0]),
    ]
}

/// A held spawn's waiter's calls after the descriptors are in place (`src/sys/init/wait.rs`):
/// the program's lookup, the held record, the gate's byte, its close.
fn held_calls() -> [Call; 4] {
    [
        Call::native(libc::SYS_faccessat, &[libc::AT_FDCWD as u64, 0, libc::X_OK as u64]),
        Call::native(libc::SYS_write, &[3, 0, 12]),
        Call::native(libc::SYS_read, &[3, 0, 1]),
        Call::native(libc::SYS_close, &[3]),
    ]
}

/// [`filter_allows_waiter`] for a held spawn's waiter (`held`), which also holds at its gate.
pub(crate) fn filter_allows_held(plan: &SeccompPlan) -> Result<(), PoolError> {
    filter_allows(plan, waiter_calls().iter().chain(&held_calls()).chain(&early_calls(plan)))
}

/// Under a filter installed early (`SeccompPlan::early`), the child's own making of the
/// socket inheritable before it executes the waiter (`child::program`) is filtered too.
fn early_calls(plan: &SeccompPlan) -> Vec<Call> {
    match plan.early {
        true => vec![Call::native(libc::SYS_fcntl, &[3, libc::F_SETFD as u64, 0])],
        false => Vec::new(),
    }
}

/// Refuses a filter that does not allow one of the waiter's calls (and, with `watch`, the
/// holder's), or that this crate cannot read (a program of the user's with instructions its
/// interpreter does not follow).
pub(crate) fn filter_allows_waiter(plan: &SeccompPlan, watch: bool) -> Result<(), PoolError> {
    let watching = if watch { &watch_calls()[..] } else { &[] };
    filter_allows(plan, waiter_calls().iter().chain(watching).chain(&early_calls(plan)))
}

fn filter_allows<'a>(plan: &SeccompPlan, calls: impl Iterator<Item = &'a Call>) -> Result<(), PoolError> {
    // With notify rules the program's prologue names the pipes; any numbers do for this.
    let program = plan.for_spawn(1000, 1001).unwrap_or_else(|| plan.program.clone());
    if program.is_empty() {
        return Ok(());
    }
    for call in calls {
        // The waiter closes with close(2) where close_range(2) is refused (`wait.rs`).
        let call = match interp::try_run_counting(&program, call) {
            Ok((ALLOW, _)) => continue,
            // Only a refusal the waiter sees (an errno) lets it fall back; a kill would not.
            Ok((verdict, _)) if call.nr as i64 == libc::SYS_close_range && verdict & RET_ACTION == RET_ERRNO => {
                &Call::native(libc::SYS_close, &[3])
            }
            _ => call,
        };
        match interp::try_run_counting(&program, call) {
            Ok((ALLOW, _)) => {}
            Ok(_) => return Err(PoolError::FilterRefuses { nr: i64::from(call.nr) }),
            Err(why) => return Err(PoolError::FilterUnreadable { why }),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seccomp::spec::Seccomp;

    fn plan(s: Seccomp) -> SeccompPlan {
        crate::seccomp::plan::compile(&s, true, false).unwrap()
    }

    #[test]
    fn the_default_profile_and_none_allow_the_waiter() {
        for watch in [false, true] {
            assert!(filter_allows_waiter(&plan(Seccomp::default_profile()), watch).is_ok());
            assert!(filter_allows_waiter(&plan(Seccomp::none()), watch).is_ok());
            assert!(filter_allows_waiter(&plan(Seccomp::default_profile().notify(libc::SYS_mkdir)), watch).is_ok());
        }
    }

    #[test]
    fn a_profile_denying_the_holders_poll_is_refused_only_where_a_holder_watches() {
        let denied = plan(Seccomp::default_profile().deny(libc::SYS_ppoll, nix::errno::Errno::EPERM));
        assert!(filter_allows_waiter(&denied, false).is_ok());
        let err = filter_allows_waiter(&denied, true).unwrap_err();
        assert!(matches!(err, PoolError::FilterRefuses { nr } if nr == libc::SYS_ppoll), "{err}");
    }

    #[test]
    fn a_held_spawn_needs_close_and_takes_it_for_close_range() {
        assert!(filter_allows_held(&plan(Seccomp::default_profile())).is_ok());
        let no_range = plan(Seccomp::default_profile().deny(libc::SYS_close_range, nix::errno::Errno::EPERM));
        assert!(filter_allows_held(&no_range).is_ok());
        let neither = Seccomp::default_profile()
            .deny(libc::SYS_close_range, nix::errno::Errno::EPERM)
            .deny(libc::SYS_close, nix::errno::Errno::EPERM);
        let err = filter_allows_held(&plan(neither)).unwrap_err();
        assert!(matches!(err, PoolError::FilterRefuses { nr } if nr == libc::SYS_close), "{err}");
    }

    #[test]
    fn a_profile_denying_one_of_its_calls_is_refused() {
        let denied = Seccomp::default_profile().deny(libc::SYS_chdir, nix::errno::Errno::EPERM);
        let err = filter_allows_waiter(&plan(denied), false).unwrap_err();
        assert!(matches!(err, PoolError::FilterRefuses { nr } if nr == libc::SYS_chdir), "{err}");
    }
}
