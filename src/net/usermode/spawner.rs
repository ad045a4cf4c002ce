//! The thread helpers are forked from (**parent**). A helper's `PR_SET_PDEATHSIG` fires when
//! the *thread* that forked it ends, not the process: forked from a caller's short-lived
//! thread, it would die under a live sandbox. So every helper is forked by one thread of
//! isobox's that never ends, and dies only with the process.

use std::io;
use std::process::{Child, Command};
use std::sync::mpsc::{self, Sender};
use std::sync::{Mutex, OnceLock};

type Job = (Command, Sender<io::Result<Child>>);

static SPAWNER: OnceLock<Mutex<Option<Sender<Job>>>> = OnceLock::new();

/// Spawns `cmd` from the spawner thread (started on first use).
pub(crate) fn spawn(cmd: Command) -> io::Result<Child> {
    let (reply, answer) = mpsc::channel();
    let slot = SPAWNER.get_or_init(|| Mutex::new(None));
    let mut jobs = slot.lock().unwrap_or_else(|e| e.into_inner());
    if jobs.is_none() {
        *jobs = Some(start_thread()?);
    }
    let sent = jobs.as_ref().is_some_and(|jobs| jobs.send((cmd, reply)).is_ok());
    drop(jobs);
    if !sent {
        return Err(gone());
    }
    answer.recv().unwrap_or_else(|_| Err(gone()))
}

fn start_thread() -> io::Result<Sender<Job>> {
    let (jobs, queue) = mpsc::channel::<Job>();
    let inherited = crate::pool::priority::inherited();
    std::thread::Builder::new().name("isobox-usernet".into()).spawn(move || {
        inherited.undo(); // its helpers inherit its scheduling and CPUs
        for (mut cmd, reply) in queue {
            let _ = reply.send(cmd.spawn());
        }
    })?;
    Ok(jobs)
}

fn gone() -> io::Error {
    io::Error::from_raw_os_error(libc::ECHILD)
}
