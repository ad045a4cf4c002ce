//! The thread that fills pools (**parent**): one for the whole process, started with the first
//! pool and never ended, because the kernel ties a sandbox's death signal (`die_with_parent`)
//! to the thread that spawned it: a thread of each pool's own would take the sandboxes it
//! handed out with it when the pool is dropped.

use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use super::inner::Inner;
use crate::error::{Error, SpawnError};

struct Job {
    pool: Weak<Inner>,
    /// Someone waits for the pool to be full (its creation).
    done: Option<Sender<Result<(), Error>>>,
}

static JOBS: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();

fn jobs() -> Result<Sender<Job>, Error> {
    if let Some(jobs) = JOBS.get() {
        return Ok(jobs.lock().unwrap_or_else(|p| p.into_inner()).clone());
    }
    let (tx, rx) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("isobox-pool".into())
        .spawn(move || {
            for job in rx {
                run(job);
            }
        })
        .map_err(SpawnError::io("starting isobox's pool thread"))?;
    let jobs = JOBS.get_or_init(|| Mutex::new(tx));
    Ok(jobs.lock().unwrap_or_else(|p| p.into_inner()).clone())
}

fn run(job: Job) {
    let result = match job.pool.upgrade() {
        // A panic must not end the thread: every pool's sandboxes would die with it.
        Some(pool) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pool.fill()))
            .unwrap_or_else(|_| Err(SpawnError::io("filling a pool")(std::io::Error::other("panicked")).into())),
        None => Ok(()),
    };
    if let Some(done) = job.done {
        let _ = done.send(result);
    }
}

/// Fills `pool` on the pool thread and waits until it is full: the first failure is returned.
pub(crate) fn fill_and_wait(pool: &Arc<Inner>) -> Result<(), Error> {
    let (tx, rx) = mpsc::channel();
    let job = Job { pool: Arc::downgrade(pool), done: Some(tx) };
    jobs()?.send(job).map_err(|_| SpawnError::io("reaching isobox's pool thread")(std::io::Error::other("gone")))?;
    rx.recv().unwrap_or_else(|_| Err(SpawnError::io("filling a pool")(std::io::Error::other("no answer")).into()))
}

/// Asks the pool thread to top `pool` up, without waiting. A failure there shows up as an
/// empty pool, whose next spawn then makes its sandbox itself and returns the error.
pub(crate) fn refill(pool: &Arc<Inner>) {
    if let Ok(jobs) = jobs() {
        let _ = jobs.send(Job { pool: Arc::downgrade(pool), done: None });
    }
}
