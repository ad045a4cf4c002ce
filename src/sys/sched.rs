//! CPU scheduling of a thread or process, from the **parent**: the background pool thread runs
//! at nice 19 (`SCHED_BATCH`) and the reaper thread under `SCHED_IDLE`, and the pool thread
//! gives each command back the scheduling it started with.
//!
//! # Safety
//! The `unsafe` blocks are FFI calls taking integers and a `sched_param`, plain old data
//! that lives for the call.

use std::io;

/// A thread's scheduling: its policy, its real-time priority and its nice value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scheduling {
    pub policy: i32,
    pub priority: i32,
    pub nice: i32,
}

/// `SCHED_IDLE`: runs only on a CPU that nothing else wants (weight 3 against nice 0's 1024).
pub const IDLE: i32 = libc::SCHED_IDLE;

/// `SCHED_BATCH`: a fair share of the CPU, but its wake-ups preempt nothing.
pub const BATCH: i32 = libc::SCHED_BATCH;

/// The scheduling of `tid` (0: the calling thread).
pub fn get(tid: i32) -> io::Result<Scheduling> {
    // SAFETY: an FFI call on an integer.
    let policy = unsafe { libc::sched_getscheduler(tid) };
    if policy < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` is valid for writes for the call.
    if unsafe { libc::sched_getparam(tid, &mut param) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // getpriority returns the nice value itself, -1 included: errno tells an error apart.
    nix::errno::Errno::clear();
    // SAFETY: an FFI call on integers. `PRIO_PROCESS` with a thread id is that thread on Linux.
    let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, tid as libc::id_t) };
    if nice == -1 && nix::errno::Errno::last_raw() != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Scheduling { policy: policy & !libc::SCHED_RESET_ON_FORK, priority: param.sched_priority, nice })
}

/// Gives `tid` (0: the calling thread) the scheduling `s`: its policy and priority, then its
/// nice value (which a real-time policy ignores but keeps).
pub fn set(tid: i32, s: Scheduling) -> io::Result<()> {
    let param = libc::sched_param { sched_priority: s.priority };
    // SAFETY: `param` is valid for reads for the call.
    if unsafe { libc::sched_setscheduler(tid, s.policy, &param) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: an FFI call on integers.
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, s.nice) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Puts the calling thread under `SCHED_IDLE` (which any thread may do), keeping its nice value.
pub fn set_idle() -> io::Result<()> {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` is valid for reads for the call.
    if unsafe { libc::sched_setscheduler(0, IDLE, &param) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
