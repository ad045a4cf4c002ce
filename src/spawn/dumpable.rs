//! Keeping the caller's "dumpable" flag (**parent**). The flag belongs to the memory a
//! process runs in, which the child shares until exec: when the child's ids change, the
//! kernel resets it (to `fs.suid_dumpable`, usually 0) for the caller too, which would hand
//! the caller's /proc/self to host root and make a later newuidmap refuse it. While any spawn
//! is in flight the value the caller had is kept here and put back when the last one ends.
//!
//! The other way round, a caller that made itself undumpable has its child's /proc files
//! owned by host root, where an unprivileged caller cannot write the child's id maps: for
//! such a spawn the flag is set for its duration (`make_dumpable`), and put back after.

use std::sync::Mutex;

/// Spawns in flight, and the caller's flag from before the first of them.
static IN_FLIGHT: Mutex<(usize, Option<bool>)> = Mutex::new((0, None));

/// Held across one spawn: from before the clone to the child's exec (or death).
pub(crate) struct DumpableGuard;

impl DumpableGuard {
    pub fn new(make_dumpable: bool) -> DumpableGuard {
        let mut state = IN_FLIGHT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if state.0 == 0 {
            state.1 = nix::sys::prctl::get_dumpable().ok();
        }
        if make_dumpable {
            make_dumpable_now();
        }
        state.0 += 1;
        DumpableGuard
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
        let mut state = IN_FLIGHT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        state.0 = state.0.saturating_sub(1);
        if state.0 == 0 {
            if let Some(dumpable) = state.1.take() {
                if nix::sys::prctl::get_dumpable().ok() != Some(dumpable) {
                    let _ = nix::sys::prctl::set_dumpable(dumpable);
                }
            }
        }
    }
}
