//! Keeping the caller's "dumpable" flag (**parent**). The flag belongs to the memory a
//! process runs in, which the child shares until exec: when the child's ids change, the
//! kernel resets it (to `fs.suid_dumpable`, usually 0) for the caller too, which would hand
//! the caller's /proc/self to host root and make a later newuidmap refuse it. While any spawn
//! is in flight the value the caller had is kept here and put back when the last one ends.
//!
//! The other way round, a caller that made itself undumpable has its child's /proc files
//! owned by host root, where an unprivileged caller cannot write the child's id maps: for
//! such a spawn the flag is set for its duration (`make_dumpable`), and put back after.
//!
//! An exec into a live sandbox (`Child::exec`) needs the flag off: its processes share the
//! caller's memory inside namespaces where untrusted code runs, and with the flag on a
//! process there with the same uid (or CAP_SYS_PTRACE in the sandbox) could ptrace them and
//! so read and write the caller's memory (runc's CVE-2016-9962). Off, ptrace needs
//! CAP_SYS_PTRACE over the caller's own user namespace. So an exec waits until no spawn that
//! may set the flag (an unprivileged caller's) is in flight, and such spawns wait for execs.

use std::sync::{Condvar, Mutex, MutexGuard};

#[derive(Default)]
struct State {
    /// Spawns and execs in flight.
    in_flight: usize,
    /// The caller's flag from before the first of them.
    saved: Option<bool>,
    /// Spawns in flight that may set the flag (an unprivileged caller's).
    may_set: usize,
    /// Execs in flight, which need it off.
    execs: usize,
}

static STATE: Mutex<State> = Mutex::new(State { in_flight: 0, saved: None, may_set: 0, execs: 0 });
static CHANGED: Condvar = Condvar::new();

fn lock() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn wait_while(mut state: MutexGuard<'static, State>, busy: fn(&State) -> bool) -> MutexGuard<'static, State> {
    while busy(&state) {
        state = CHANGED.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
    }
    state
}

/// Held across one spawn (from before the clone to the child's exec or death), or one exec.
pub(crate) struct DumpableGuard {
    may_set: bool,
    exec: bool,
}

impl DumpableGuard {
    pub fn new(make_dumpable: bool) -> DumpableGuard {
        // An unprivileged caller's spawn may set the flag later too (to take a listener).
        let may_set = make_dumpable || !nix::unistd::geteuid().is_root();
        let mut state = if may_set { wait_while(lock(), |s| s.execs > 0) } else { lock() };
        if state.in_flight == 0 {
            state.saved = nix::sys::prctl::get_dumpable().ok();
        }
        if make_dumpable {
            make_dumpable_now();
        }
        state.in_flight += 1;
        state.may_set += usize::from(may_set);
        DumpableGuard { may_set, exec: false }
    }

    /// Held across one exec into a live sandbox: the flag is off until the exec'd process
    /// has exec'd (or died).
    pub fn for_exec() -> DumpableGuard {
        let mut state = wait_while(lock(), |s| s.may_set > 0);
        if state.in_flight == 0 {
            state.saved = nix::sys::prctl::get_dumpable().ok();
        }
        if nix::sys::prctl::get_dumpable().ok() != Some(false) {
            let _ = nix::sys::prctl::set_dumpable(false);
        }
        state.in_flight += 1;
        state.execs += 1;
        DumpableGuard { may_set: false, exec: true }
    }
}

/// Sets the flag while a spawn is in flight (its guard puts the caller's back): for what an
/// unprivileged caller must open or take of its child after the child's ids changed.
pub(crate) fn make_dumpable_now() {
    if nix::sys::prctl::get_dumpable().ok() == Some(false) {
        let _ = nix::sys::prctl::set_dumpable(true);
    }
}

impl Drop for DumpableGuard {
    fn drop(&mut self) {
        let mut state = lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        state.may_set -= usize::from(self.may_set);
        state.execs -= usize::from(self.exec);
        if state.in_flight == 0 {
            if let Some(dumpable) = state.saved.take() {
                if nix::sys::prctl::get_dumpable().ok() != Some(dumpable) {
                    let _ = nix::sys::prctl::set_dumpable(dumpable);
                }
            }
        }
        drop(state);
        CHANGED.notify_all();
    }
}
