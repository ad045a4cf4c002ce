//! isobox's init (**child**): with a pid namespace, the sandbox's first process does the
//! whole setup, clones the program (`CLONE_VM`, on a second stack) and executes isobox's init
//! (`sys/init/`), which forwards signals to the program, reaps orphans and reports the
//! program's status; the program finishes the recipe (unblock signals, filter, exec). In a
//! pooled sandbox whose command runs beside it, there is no program: the first process
//! executes the init in its holding role (`sys/init/hold.rs`) with the pool's socket.
//!
//! The program waits until the first process has left the caller's memory and the init has
//! made itself safe to run beside: a process that shares the caller's memory must never be
//! in the sandbox's memory cgroup while untrusted code runs there (an OOM kill of it would
//! take every process sharing that memory, the caller too), and the init, dumpable and
//! unfiltered for a moment after its exec, must not meet the program's code then (a filter
//! that allows `ptrace` would let it attach). It closes its copy of the hand-over pipe's
//! write end and reads to EOF: the first process keeps its copy over the exec, and the init
//! closes it once it is not dumpable and under its filter (or the kernel does, at its exit).
//! (Until 2026-12-04 the copy was close-on-exec, so EOF came in the exec itself, after the
//! switch to the new memory: `tests/init.rs` once read the init's status before its filter.)
//!
//! Async-signal-safe like the rest of the recipe: no allocation; what the program reads of
//! the first process's (`Shared`) lives in a frame the first process never leaves.

use std::convert::Infallible;
use std::os::fd::RawFd;
use std::sync::atomic::Ordering;

use nix::errno::Errno;

use super::fds;
use super::init_shared::Shared;
use super::plan::{ChildPlan, InitLaunch, WaiterLaunch};
use super::program;
use super::record::Record;
use super::record::{at, record};
use super::step::Step;
use crate::sys::child as sys;
use crate::sys::launch_program::clone_program;
use crate::sys::vfork::ProgramStart;

/// The first process's end of the recipe: start the program, become the init. Returns only
/// on a failure before the program exists; after that it execs or exits, never leaving this
/// frame, which holds what the program reads (`Shared`). A pooled sandbox whose command runs
/// beside it has no program: its init holds it (`become_holder`).
pub(crate) fn start(p: &ChildPlan<'_>, init: &InitLaunch) -> Result<Infallible, Record> {
    if let Some(waiter) = p.launch.waiter.as_ref().filter(|w| w.holds) {
        return Err(record(Step::StartInit, (0, become_holder(init, waiter))));
    }
    let shared = Shared::new(p);
    let start = ProgramStart { arg: &shared, run: program_main };
    let started = clone_program(init.stack, &start, init.program_pidfd);
    let (pid, pidfd) = started.map_err(|errno| record(Step::StartProgram, (0, errno)))?;
    shared.program_pidfd.store(pidfd, Ordering::SeqCst);
    let errno = become_init(init, (pid, pidfd));
    shared.init_failed.store(true, Ordering::SeqCst);
    let _ = sys::write(p.launch.control.report_write, &record(Step::StartInit, (0, errno)).encode());
    sys::exit_group(127) // wakes the program, which sees `init_failed` and exits
}

/// Keeps only what the init needs (its executable, the status pipe, the program's pidfd for
/// a listener's handover: `pidfd`, or -1, and the hand-over pipe's write end, which it closes
/// once filtered) and, until the exec closes it, the report pipe; then executes the init.
fn become_init(init: &InitLaunch, (pid, pidfd): (i32, i32)) -> Errno {
    let (mut digits, mut left_digits) = ([0u8; 12], [0u8; 12]);
    decimal(pid as u32, &mut digits);
    decimal(init.left.1 as u32, &mut left_digits);
    // The hand-over pipe's write end goes over the exec: the init closes it once it is not
    // dumpable and under its filter, and only then does the program go on.
    if let Err(errno) = sys::clear_cloexec(init.left.1) {
        return errno;
    }
    let argv = [
        c"isobox-init".as_ptr().cast(),
        digits.as_ptr(),
        init.status_digits.as_ptr(),
        left_digits.as_ptr(),
        std::ptr::null(),
    ];
    exec_init(init, pidfd, &argv)
}

/// As [`become_init`], in the init's holding role (`src/sys/init/hold.rs`), with the pool's
/// socket instead of a program.
fn become_holder(init: &InitLaunch, waiter: &WaiterLaunch) -> Errno {
    let argv =
        [c"isobox-hold".as_ptr().cast(), waiter.sock_digits.as_ptr(), init.status_digits.as_ptr(), std::ptr::null()];
    exec_init(init, waiter.sock, &argv)
}

/// Closes all but the init's descriptors and `also` (kept over the exec), and executes it
/// with `argv` (null-terminated).
fn exec_init(init: &InitLaunch, also: RawFd, argv: &[*const u8]) -> Errno {
    let mut keep = [init.keep[0], init.keep[1], init.keep[2], init.keep[3], also];
    keep.sort_unstable(); // -1 first, which the close skips
    if let Err(errno) = fds::close_all_from_zero_but(&keep) {
        return errno;
    }
    for fd in [init.status_write, also].into_iter().filter(|fd| *fd >= 0) {
        if let Err(errno) = sys::clear_cloexec(fd) {
            return errno;
        }
    }
    sys::execveat_fd(init.exe, argv, &[std::ptr::null()])
}

/// `n` in decimal, NUL-terminated, at the start of `out`.
fn decimal(mut n: u32, out: &mut [u8; 12]) {
    let mut tmp = [0u8; 10];
    let mut len = 0;
    loop {
        tmp[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in 0..len {
        out[i] = tmp[len - 1 - i];
    }
    out[len] = 0;
}

/// The program's entry point. Never returns.
fn program_main(shared: &Shared<'_>) -> ! {
    let p = shared.plan;
    let Err(failure) = program(shared);
    if failure.step != Step::StartInit {
        let _ = sys::write(p.launch.control.report_write, &failure.encode());
    }
    sys::exit_group(127)
}

/// Waits until the init has closed the hand-over pipe (it left the caller's memory, is not
/// dumpable and is filtered), then ends the recipe.
fn program(shared: &Shared<'_>) -> Result<Infallible, Record> {
    let (read, write) = shared.plan.launch.init.as_ref().map_or((-1, -1), |i| i.left);
    at(Step::StartProgram, sys::close(write))?;
    at(Step::StartProgram, read_to_eof(read))?;
    if shared.init_failed.load(Ordering::SeqCst) {
        // The first process wrote the failure; it takes the program with it anyway.
        return Err(record(Step::StartInit, (0, Errno::ECHILD)));
    }
    at(Step::Signals, sys::unblock_signals())?;
    let holder = shared.program_pidfd.load(Ordering::SeqCst);
    program::finish(shared.plan.setup, &shared.plan.launch, (holder >= 0).then_some(holder))
}

/// Reads `fd` until EOF. Async-signal-safe.
fn read_to_eof(fd: std::os::fd::RawFd) -> Result<(), Errno> {
    let mut byte = [0u8; 1];
    loop {
        match sys::read(fd, &mut byte) {
            Ok(0) => return sys::close(fd),
            Ok(_) | Err(Errno::EINTR) => {}
            Err(errno) => return Err(errno),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn decimal_writes_nul_terminated_digits() {
        let mut out = [0xffu8; 12];
        decimal(0, &mut out);
        assert_eq!(&out[..2], b"0\0");
        decimal(4_294_967_295, &mut out);
        assert_eq!(&out[..11], b"4294967295\0");
        decimal(2, &mut out);
        assert_eq!(&out[..2], b"2\0");
    }
}
