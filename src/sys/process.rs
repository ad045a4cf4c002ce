//! Waiting for and signalling the sandbox's first process, from the **parent**.
//!
//! # Safety
//! The `unsafe` blocks are FFI calls that libc and nix do not wrap with rusage or pidfds.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::unistd::Pid;

/// wait4(2): blocks until `pid` exits (or, with `nohang`, returns `None` if it has not).
/// Returns the raw wait status and the process's resource usage. A stop is not an exit: a
/// child that made its parent its tracer (`PTRACE_TRACEME`, where a filter allows ptrace) has
/// its stops reported without `WUNTRACED`, and must not be taken for ended.
pub fn wait4(pid: Pid, nohang: bool) -> io::Result<Option<(i32, libc::rusage)>> {
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let options = if nohang { libc::WNOHANG } else { 0 };
    loop {
        // SAFETY: `status` and `usage` are valid for writes for the duration of the call.
        let ret = unsafe { libc::wait4(pid.as_raw(), &mut status, options, &mut usage) };
        match ret {
            0 => return Ok(None),
            r if r > 0 && (libc::WIFSTOPPED(status) || libc::WIFCONTINUED(status)) => {
                if nohang {
                    return Ok(None);
                }
            }
            r if r > 0 => return Ok(Some((status, usage))),
            _ => {
                let err = io::Error::last_os_error();
                if err.raw_os_error() != Some(libc::EINTR) {
                    return Err(err);
                }
            }
        }
    }
}

/// kill(2) of `pid` with any signal number, real-time ones included (nix's `kill` takes
/// only the standard signals).
pub fn kill(pid: Pid, signal: i32) -> io::Result<()> {
    // SAFETY: kill takes two integers and touches no memory of ours.
    if unsafe { libc::kill(pid.as_raw(), signal) } < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// pidfd_send_signal(2): signals the process behind `pidfd`, which can never be a recycled pid.
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, signal: i32) -> io::Result<()> {
    let null = std::ptr::null::<libc::siginfo_t>();
    // SAFETY: a NULL siginfo is allowed (the kernel fills in SI_USER) and flags must be 0.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_send_signal, pidfd.as_raw_fd(), signal, null, 0) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// waitid(P_PIDFD, `pidfd`, WEXITED | WNOWAIT): the exit of the child behind `pidfd`, as
/// wait4's raw status and its resource usage, **leaving it a zombie** for a later reap (or,
/// with `nohang`, `None` if it has not exited). Only exits: a stop reported to its tracer
/// is not one (waitid reports those unasked too), and a blocking call then polls the pidfd,
/// which turns readable at the exit only.
pub fn exit_without_reaping(pidfd: BorrowedFd<'_>, nohang: bool) -> io::Result<Option<(i32, libc::rusage)>> {
    const P_PIDFD: libc::c_int = 3;
    let options = libc::WEXITED | libc::WNOWAIT | libc::WNOHANG;
    let mut polled = false;
    loop {
        // SAFETY: siginfo_t and rusage are plain old data; all-zero is a valid value.
        let (mut info, mut usage): (libc::siginfo_t, libc::rusage) =
            unsafe { (std::mem::zeroed(), std::mem::zeroed()) };
        // SAFETY: `info` and `usage` are valid for writes for the duration of the call; the
        // raw call (not libc's waitid) for its fifth argument, the rusage.
        let ret =
            unsafe { libc::syscall(libc::SYS_waitid, P_PIDFD, pidfd.as_raw_fd(), &mut info, options, &mut usage) };
        if ret < 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(err);
        }
        // SAFETY: the kernel filled `info` for a child that changed state (si_pid non-zero),
        // whose si_status the union holds for SIGCHLD.
        let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
        let raw = match info.si_code {
            _ if pid == 0 => None,
            libc::CLD_EXITED => Some((status & 0xff) << 8),
            libc::CLD_KILLED => Some(status & 0x7f),
            libc::CLD_DUMPED => Some((status & 0x7f) | 0x80),
            _ => None, // a stop or a continue reported to the tracer
        };
        match raw {
            Some(raw) => return Ok(Some((raw, usage))),
            None if nohang => return Ok(None),
            None => {
                // Readable but not reported to us (a tracer of another process's holds the
                // exit until it lets go): look again in a moment rather than spin.
                if polled {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                let mut fds = [nix::poll::PollFd::new(pidfd, nix::poll::PollFlags::POLLIN)];
                let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::NONE);
                polled = true;
            }
        }
    }
}
