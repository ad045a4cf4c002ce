//! Reaping in the background (**parent**): isobox's init has reported how the program ended
//! and is exiting; its exit (the kernel tears the sandbox's namespaces down then) need not
//! hold up the caller's `wait`. One thread for the process reaps such inits, each as soon as
//! it has exited (looking again every 5 ms while some have not).

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

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
    let inherited = crate::pool::priority::inherited();
    let thread = std::thread::Builder::new().name("isobox-reaper".into()).spawn(move || {
        inherited.undo();
        serve(&rx)
    });
    thread.ok().map(|_| Mutex::new(tx))
}

/// Reaps every queued init that has exited, without blocking on any one of them: an init's
/// exit waits until its namespace is empty, which a process stuck in the kernel can hold up,
/// and that must not keep the others zombies.
fn serve(inits: &Receiver<Pid>) {
    // Reaping can wait: under SCHED_IDLE its wake-ups take only CPU time nothing else wants
    // (measured: a pool's spawns 1-4% faster on two CPUs). Any thread may lower itself.
    let _ = crate::sys::sched::set_idle();
    let mut pending: Vec<Pid> = Vec::new();
    loop {
        let next = if pending.is_empty() {
            inits.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            inits.recv_timeout(Duration::from_millis(5))
        };
        match next {
            Ok(pid) => pending.push(pid),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        // Gone: reaped, or not ours any more (ECHILD).
        pending.retain(|pid| matches!(crate::sys::process::wait4(*pid, true), Ok(None)));
    }
}
