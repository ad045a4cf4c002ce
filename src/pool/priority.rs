//! The background pool thread's CPU priority (**parent**). It refills command-beside pools
//! at nice 19 under `SCHED_BATCH` (`lowered`): the new sandboxes' set-up, which their
//! processes (spawned there, and lowered too) do. So on a busy machine a refill takes little
//! of the commands' CPU time, instead of competing with the command it replaces. Once made,
//! the sandbox's pid 1, its holder, gets `SCHED_BATCH` at the thread's original nice for
//! the sandbox's end (`for_exit`).
//! Lowered, it is also pinned to one CPU (the last it may use, where it may use two or more),
//! so the refill's work and its wake-ups stay off the CPU the caller's spawns run on; the
//! holder is unpinned with its `for_exit`.
//! Each command's waiter gets back the scheduling the thread started with, and its CPUs,
//! before the sandbox is pooled: those of the thread that started it (the first `spawn` or
//! `wait` of a pool refilled in the background). Whatever a caller waits for is made by the
//! other pool thread, which is never lowered (see `filler`). Threads of isobox's that the
//! lowered one happens to start undo what they inherit from it ([`Inherited`]).
//!
//! Only for a root caller whose threads may go back from it (`CAP_SYS_NICE`, which
//! a container may not grant): a probe thread tries it once. Then giving a waiter back its
//! scheduling is allowed whatever ids it runs as. Otherwise the thread keeps its scheduling
//! and nothing here changes anything (an unprivileged caller's spawns also share a
//! process-wide dumpable flag with it, which an idle spawn would hold up).

use std::cell::Cell;
use std::io;

use nix::sched::{sched_getaffinity, sched_setaffinity, CpuSet};
use nix::unistd::Pid;

use crate::sys::sched::{self, Scheduling};

thread_local! {
    /// The calling thread (the background pool thread) is lowered, and this is the
    /// scheduling it had before.
    static LOWERED_FROM: Cell<Option<Scheduling>> = const { Cell::new(None) };
    /// The calling thread (the background pool thread) is pinned to one CPU, and these are
    /// the CPUs it could run on before.
    static PINNED_FROM: Cell<Option<CpuSet>> = const { Cell::new(None) };
}

/// Pins the calling thread (just lowered) to the last of the CPUs it may run on, if it may run
/// on two or more, and remembers them: what a refill runs (the sandbox's processes inherit the
/// pin) then stays on that CPU, its wake-ups and the kernel's work for it too, instead of
/// landing on the CPU a spawn runs on (BENCHMARKS.md: a quarter of a flat-out pool's p50).
fn pin_this_thread() {
    let Ok(original) = sched_getaffinity(Pid::from_raw(0)) else {
        return;
    };
    let allowed = (0..CpuSet::count()).filter(|&cpu| original.is_set(cpu).unwrap_or(false));
    let (count, last) = allowed.fold((0, 0), |(count, _), cpu| (count + 1, cpu));
    if count < 2 {
        return;
    }
    let mut one = CpuSet::new();
    if one.set(last).is_ok() && sched_setaffinity(Pid::from_raw(0), &one).is_ok() {
        PINNED_FROM.with(|p| p.set(Some(original)));
    }
}

/// Gives process `pid` (0: the calling thread) back the CPUs the pinned thread could run on;
/// nothing to do on a thread that is not pinned.
fn unpin(pid: u32) -> io::Result<()> {
    match PINNED_FROM.with(Cell::get) {
        Some(original) => set_cpus(pid, &original),
        None => Ok(()),
    }
}

/// Sets the CPUs of `pid` (0: the calling thread) to `cpus`; if none of them is allowed now
/// (the process's cpuset moved since), to every CPU the cpuset allows.
fn set_cpus(pid: u32, cpus: &CpuSet) -> io::Result<()> {
    let pid = Pid::from_raw(pid as i32);
    match sched_setaffinity(pid, cpus) {
        Err(nix::errno::Errno::EINVAL) => sched_setaffinity(pid, &every_cpu()).map_err(io::Error::from),
        done => done.map_err(io::Error::from),
    }
}

/// Every CPU a set can name (the kernel keeps those the cpuset allows).
fn every_cpu() -> CpuSet {
    let mut all = CpuSet::new();
    for cpu in 0..CpuSet::count() {
        let _ = all.set(cpu);
    }
    all
}

/// What a thread started on the lowered pool thread inherits from it (its scheduling and its
/// pin) and undoes as it starts: isobox's other threads (the reaper, the veth deleter, the
/// user-mode network's spawner, the async worker) are started by whichever thread first needs
/// them, which may be that one. Nothing on any other thread.
#[derive(Clone, Copy)]
pub(crate) struct Inherited {
    scheduling: Option<Scheduling>,
    cpus: Option<CpuSet>,
}

/// What a thread started here now would inherit and must undo ([`Inherited::undo`]).
pub(crate) fn inherited() -> Inherited {
    Inherited { scheduling: LOWERED_FROM.with(Cell::get), cpus: PINNED_FROM.with(Cell::get) }
}

impl Inherited {
    /// Run first on the new thread: back to the scheduling and CPUs of the thread that
    /// started the lowered one (best effort: a helper thread only runs lower if it fails).
    pub(crate) fn undo(self) {
        if let Some(scheduling) = self.scheduling {
            let _ = sched::set(0, scheduling);
        }
        if let Some(cpus) = self.cpus {
            let _ = set_cpus(0, &cpus);
        }
    }
}

/// Lowers the calling thread (the background pool thread, once, when it starts) to
/// [`lowered`] if the caller is root and a thread so lowered may go back.
pub(crate) fn lower_this_thread() {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    // A caller under SCHED_IDLE already runs below where this would go.
    let Ok(original) = sched::get(0).map_err(drop).and_then(|o| if o.policy == sched::IDLE { Err(()) } else { Ok(o) })
    else {
        return;
    };
    if can_go_back() && sched::set(0, lowered()).is_ok() {
        LOWERED_FROM.with(|l| l.set(Some(original)));
        pin_this_thread();
    }
}

/// Where the background thread goes down to: `SCHED_BATCH` at nice 19 (weight 15 against nice
/// 0's 1024), not `SCHED_IDLE` (weight 3, and no CPU at all while anything else wants it): a
/// refill holds the kernel's sleeping locks at times (most likely the mount namespace's, while
/// it mounts), and a spawn made at the caller's priority waited behind one for a second or more
/// on a busy machine (`tests/pool_priority.rs`, the pool found empty). Its wake-ups preempt
/// nothing. Measured at the same spawn latency as `SCHED_IDLE` (BENCHMARKS.md).
fn lowered() -> Scheduling {
    Scheduling { policy: sched::BATCH, priority: 0, nice: 19 }
}

/// Whether a thread of the caller's scheduling, once lowered, may go back to it:
/// tried on a thread of its own, which inherits the caller's scheduling and then ends.
fn can_go_back() -> bool {
    let probe = std::thread::Builder::new().name("isobox-probe".into()).spawn(|| {
        let original = sched::get(0)?;
        sched::set(0, lowered())?;
        sched::set(0, original)
    });
    probe.is_ok_and(|p| p.join().is_ok_and(|r| r.is_ok()))
}

/// Gives process `pid` (a command's waiter just made on this thread) the scheduling this
/// thread had before it was lowered, and the CPUs it could run on; nothing to do on a thread
/// that is not lowered. On failure the thread goes back to both for good (the caller drops
/// the sandbox).
pub(crate) fn give_back(pid: u32) -> io::Result<()> {
    let Some(original) = LOWERED_FROM.with(Cell::get) else {
        return Ok(());
    };
    let given = sched::set(pid as i32, original).and_then(|()| unpin(pid));
    if given.is_err() {
        go_back_for_good(original);
    }
    given
}

/// After a failed [`give_back`]: this thread back to its scheduling and its CPUs, each for
/// good once that worked (what it spawns from then on inherits them, and needs nothing).
fn go_back_for_good(original: Scheduling) {
    if sched::set(0, original).is_ok() {
        LOWERED_FROM.with(|l| l.set(None));
    }
    if unpin(0).is_ok() {
        PINNED_FROM.with(|p| p.set(None));
    }
}

/// Gives process `pid` (a command-beside sandbox's holder, its pid 1, just made on this
/// thread) the CPUs this thread could run on, and `SCHED_BATCH` at the nice value it had
/// before it was lowered: it sleeps
/// until the command has exited, and then its exit ends whatever the command left in the
/// sandbox, which must take a fair share on a busy machine and yet not preempt the caller on
/// its way back from `wait` (a batch task's wake-up preempts nothing). Nothing to do on a
/// thread that is not lowered.
pub(crate) fn for_exit(pid: u32) -> io::Result<()> {
    let Some(original) = LOWERED_FROM.with(Cell::get) else {
        return Ok(());
    };
    // Its exit (the sandbox's teardown) may run anywhere: on a large machine many end at once.
    let unpinned = unpin(pid);
    sched::set(pid as i32, Scheduling { policy: sched::BATCH, priority: 0, nice: original.nice }).and(unpinned)
}
