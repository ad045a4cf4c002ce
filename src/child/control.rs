//! The child's own bookkeeping steps (**child**): the control pipes, dying with the parent,
//! the new session, no_new_privs and the signal state before exec. Async-signal-safe: no
//! allocation.

use nix::errno::Errno;

use super::plan::ControlFds;
use crate::sys::child as sys;

/// Closes the parent's ends of the control pipes, so a dead parent reads as EOF on `go`.
pub(crate) fn close_parent_ends(fds: &ControlFds) -> Result<(), Errno> {
    sys::close(fds.go_write)?;
    sys::close(fds.report_read)
}

/// PR_SET_PDEATHSIG before waiting for `go`: if the parent died before this, `go` is at EOF.
pub(crate) fn set_death_signal(on: bool) -> Result<(), Errno> {
    if on {
        sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as usize)?;
    }
    Ok(())
}

/// The kernel clears the death signal whenever the child's ids (or a gain of capabilities)
/// change its credentials: sets it again, then checks that the parent did not die in between
/// (it holds the report pipe's read end until the child exec'd).
pub(crate) fn rearm_death_signal(on: bool, fds: &ControlFds) -> Result<(), Errno> {
    set_death_signal(on)?;
    if on && sys::pipe_reader_gone(fds.report_write)? {
        return Err(Errno::EPIPE);
    }
    Ok(())
}

/// Waits for one go byte; EOF means the parent is gone or gave up. `last` closes the pipe.
pub(crate) fn wait_go(fds: &ControlFds, last: bool) -> Result<(), Errno> {
    let mut byte = [0u8; 1];
    match sys::read(fds.go_read, &mut byte)? {
        1 if last => sys::close(fds.go_read),
        1 => Ok(()),
        _ => Err(Errno::EPIPE),
    }
}

/// setsid, so the program has no controlling terminal. The child is never a process group
/// leader (a fresh pid; pid 1 of a new pid namespace is fresh too), so setsid succeeds.
pub(crate) fn new_session(on: bool) -> Result<(), Errno> {
    if on {
        sys::setsid()?;
    }
    Ok(())
}

/// PR_SET_NO_NEW_PRIVS, so setuid binaries and file capabilities grant nothing.
pub(crate) fn set_no_new_privs(on: bool) -> Result<(), Errno> {
    if on {
        sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1)?;
    }
    Ok(())
}

/// Default dispositions for every signal, then (with `unblock`) an empty mask: the program
/// starts clean. All signals stay blocked for isobox's init, which takes them one by one.
pub(crate) fn reset_signals(unblock: bool) -> Result<(), Errno> {
    sys::reset_signals()?;
    if unblock {
        sys::unblock_signals()?;
    }
    Ok(())
}
