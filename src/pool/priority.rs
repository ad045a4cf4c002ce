//! The pool thread's CPU priority (**parent**). Its set-up work runs under `SCHED_IDLE`: new
//! sandboxes, and the teardown of used ones, which their processes (spawned here, and idle
//! too) do as they exit. So on a busy machine it takes only the CPU time the commands leave,
//! instead of competing with the command it replaces. Each command gets back the scheduling
//! the pool thread started with (the thread that made the first pool) before it is handed
//! over, and a sandbox whose program is the command (no pid namespace, or a cgroup) is made
//! at that scheduling throughout.
//!
//! Going back from `SCHED_IDLE` takes `CAP_SYS_NICE` or an `RLIMIT_NICE` that allows the
//! original nice value: where a probe finds neither, the pool thread keeps its scheduling and
//! nothing here changes anything.

use std::cell::Cell;
use std::io;
use std::sync::OnceLock;

use crate::sys::sched::{self, Scheduling};

/// The pool thread's scheduling when it started, if it could lower itself and go back.
static ORIGINAL: OnceLock<Option<Scheduling>> = OnceLock::new();

thread_local! {
    /// The calling thread is under `SCHED_IDLE` now (only ever true on the pool thread).
    static LOWERED: Cell<bool> = const { Cell::new(false) };
}

/// Lowers the calling thread (the pool thread, once, when it starts) to `SCHED_IDLE` if a
/// thread so lowered may go back to its scheduling of now.
pub(crate) fn lower_pool_thread() {
    let original = sched::get(0).ok().filter(|_| can_go_back());
    let lowered = original.is_some() && sched::set_idle().is_ok();
    let _ = ORIGINAL.set(original.filter(|_| lowered));
    LOWERED.with(|l| l.set(lowered));
}

/// Whether a thread of the caller's scheduling, once under `SCHED_IDLE`, may go back to it:
/// tried on a thread of its own, which inherits the caller's scheduling and then ends.
fn can_go_back() -> bool {
    let probe = std::thread::Builder::new().name("isobox-probe".into()).spawn(|| {
        let original = sched::get(0)?;
        sched::set_idle()?;
        sched::set(0, original)
    });
    probe.is_ok_and(|p| p.join().is_ok_and(|r| r.is_ok()))
}

/// Gives process `pid` (a command's waiter, made on the lowered pool thread) the pool thread's
/// original scheduling; nothing to do if the thread was never lowered.
pub(crate) fn give_back(pid: u32) -> io::Result<()> {
    match ORIGINAL.get().copied().flatten() {
        Some(original) => sched::set(pid as i32, original),
        None => Ok(()),
    }
}

/// Runs `f` on the calling thread at the pool thread's original scheduling (at once if it is
/// not lowered now), then lowers it again.
pub(crate) fn at_original<T>(f: impl FnOnce() -> T) -> io::Result<T> {
    let Some(original) = ORIGINAL.get().copied().flatten().filter(|_| LOWERED.with(Cell::get)) else {
        return Ok(f());
    };
    sched::set(0, original)?;
    LOWERED.with(|l| l.set(false));
    let out = f();
    if sched::set_idle().is_ok() {
        LOWERED.with(|l| l.set(true));
    }
    Ok(out)
}
