//! The program's last steps (**child**): the seccomp filter, a listener's handover, exec.
//! Run by the sandbox's first process, with isobox's init by the program beside it, and by an
//! exec's B (`join_recipe`). A pooled sandbox executes isobox's waiter instead, which takes
//! the command later.

use std::convert::Infallible;
use std::os::fd::RawFd;

use super::exec::exec;
use nix::errno::Errno;

use super::plan::{ChildLaunch, ChildSetup, WaiterLaunch};
use super::record::{at, record, Record};
use super::step::Step;
use crate::seccomp;
use crate::sys::child as sys;

/// A filter without no_new_privs (`SeccompPlan::early`): installed before the capabilities are
/// dropped, which it then has to allow, as the rest of isobox's steps.
pub(super) fn install_early(setup: &ChildSetup, launch: &ChildLaunch<'_>) -> Result<(), Record> {
    if !setup.seccomp.early {
        return Ok(());
    }
    match seccomp::apply::install(&setup.seccomp, launch.seccomp_program) {
        Ok(_) => Ok(()), // no listener: an early filter has no notify rules
        Err(e) => Err(record(Step::Seccomp, (0, e))),
    }
}

/// Installs the filter (unless installed early), hands its listener over (taken by the parent through `holder_pidfd`,
/// the first process's pidfd for the program, when the program holds it) and executes.
pub(super) fn finish(
    setup: &ChildSetup,
    launch: &ChildLaunch<'_>,
    holder_pidfd: Option<RawFd>,
) -> Result<Infallible, Record> {
    if let Some(w) = &launch.waiter {
        at(Step::Exec, sys::clear_cloexec(w.sock))?; // before the filter, which may refuse fcntl
    }
    let listener = match setup.seccomp.early {
        true => None,
        false => seccomp::apply::install(&setup.seccomp, launch.seccomp_program)
            .map_err(|e| record(Step::Seccomp, (0, e)))?,
    };
    let (report, go) = (launch.control.report_write, launch.control.go_read);
    at(Step::NotifyHandoff, seccomp::handoff::hand_over(listener, holder_pidfd, report, go))?;
    match &launch.waiter {
        Some(w) => Err(record(Step::Exec, (0, exec_waiter(w)))),
        None => Err(record(Step::Exec, exec(launch.exec))),
    }
}

/// Executes isobox's waiter with the pool's socket. Returns only on failure.
fn exec_waiter(w: &WaiterLaunch) -> Errno {
    let argv = [c"isobox-wait".as_ptr().cast(), w.sock_digits.as_ptr(), std::ptr::null()];
    sys::execveat_fd(w.exe, &argv, &[std::ptr::null()])
}
