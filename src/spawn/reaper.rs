//! Reaping in the background (**parent**): isobox's init has reported how the program ended
//! and is exiting; its exit (the kernel tears the sandbox's namespaces down then) need not
//! hold up the caller's `wait`. One thread for the process reaps each such init.

use std::sync::mpsc::{self, Sender};
use std::sync::{Mutex, OnceLock};

use nix::unistd::Pid;

static INITS: OnceLock<Option<Mutex<Sender<Pid>>>> = OnceLock::new();

/// Reaps `pid` (a child of ours that is exiting) on the reaper thread; `false` if that thread
/// could not be started, and the caller must reap it itself.
pub(crate) fn reap_later(pid: Pid) -> bool {
    let Some(inits) = INITS.get_or_init(start) else {
        return false;
    };
    inits.lock().unwrap_or_else(|p| p.into_inner()).send(pid).is_ok()
}

fn start() -> Option<Mutex<Sender<Pid>>> {
    let (tx, rx) = mpsc::channel::<Pid>();
    let thread = std::thread::Builder::new().name("isobox-reaper".into()).spawn(move || {
        for pid in rx {
            // Blocking: the init has written its report and exits at once.
            let _ = crate::sys::process::wait4(pid, false);
        }
    });
    thread.ok().map(|_| Mutex::new(tx))
}
