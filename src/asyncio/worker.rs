//! The long-lived threads isobox owns for tokio users (**parent**): the spawner and the
//! reaper, each started on first use and never ended.
//!
//! Why a thread of isobox's own for spawns: the die-with-parent signal (PR_SET_PDEATHSIG) is
//! sent when the *thread* that cloned the child exits, and tokio's blocking threads
//! (`spawn_blocking`) exit after `thread_keep_alive` (10 s by default) of idleness, which
//! would kill every sandbox spawned there at a random later moment. The spawner thread lives
//! as long as the process, so sandboxes die with the process, as with `Sandbox::spawn`
//! from `main`. It also keeps spawns serial, which the kernel's cgroup and namespace locks
//! make them mostly anyway.
//!
//! Why a second thread for reaping: dropping an unwaited `Child` kills it and then blocks in
//! wait4 and the cgroup's removal (with retries while it is busy); that must not stall a
//! runtime's worker, nor the spawns queued behind it.
//!
//! Each item is handled inside `catch_unwind`, so a panic cannot end the thread; if a thread
//! is gone anyway, or cannot be started, [`Worker::send`] starts it again on the next item.

use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Sender};
use std::sync::{Mutex, PoisonError};

use crate::spawn::handle::Child;

/// A job for the spawner thread.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// The thread every `spawn_async` runs its spawn on.
pub(crate) static SPAWNER: Worker<Job> = Worker::new("isobox-spawner", |job| job());

/// The thread that drops the `Child` of every unwaited `AsyncChild` (kill, then reap).
pub(crate) static REAPER: Worker<Child> = Worker::new("isobox-reaper", drop);

/// One long-lived thread handling items of type `T` in the order sent.
pub(crate) struct Worker<T: Send + 'static> {
    name: &'static str,
    handle: fn(T),
    queue: Mutex<Option<Sender<T>>>,
}

impl<T: Send + 'static> Worker<T> {
    const fn new(name: &'static str, handle: fn(T)) -> Worker<T> {
        Worker { name, handle, queue: Mutex::new(None) }
    }

    /// Queues `item` for the thread, starting it first if it is not running. Gives the item
    /// back, with the error, when no thread could be started.
    pub(crate) fn send(&self, item: T) -> Result<(), (T, io::Error)> {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let item = match queue.as_ref() {
            Some(tx) => match tx.send(item) {
                Ok(()) => return Ok(()),
                Err(mpsc::SendError(item)) => item, // the thread is gone: start another
            },
            None => item,
        };
        match self.start() {
            Ok(tx) => {
                let sent = tx.send(item).map_err(|mpsc::SendError(item)| (item, io::Error::other("thread ended")));
                *queue = Some(tx);
                sent
            }
            Err(e) => Err((item, e)),
        }
    }

    fn start(&self) -> io::Result<Sender<T>> {
        let (tx, rx) = mpsc::channel::<T>();
        let handle = self.handle;
        let inherited = crate::pool::priority::inherited();
        std::thread::Builder::new().name(self.name.to_owned()).spawn(move || {
            inherited.undo();
            for item in rx {
                let _ = catch_unwind(AssertUnwindSafe(|| handle(item)));
            }
        })?;
        Ok(tx)
    }
}

/// Drops `child` on the reaper thread (which kills and reaps it), or here if that thread
/// cannot be started.
pub(crate) fn reap_later(child: Child) {
    if let Err((child, _)) = REAPER.send(child) {
        drop(child);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_run_in_order_on_one_thread_that_survives_a_panic() {
        static NAMES: Worker<Job> = Worker::new("isobox-test-worker", |job| job());
        let (tx, rx) = mpsc::channel();
        for i in 0..3 {
            let tx = tx.clone();
            let job: Job = Box::new(move || {
                let name = std::thread::current().name().map(str::to_owned);
                tx.send((i, name)).unwrap();
                if i == 1 {
                    panic!("a job that panics");
                }
            });
            NAMES.send(job).map_err(|(_, e)| e).unwrap();
        }
        let got: Vec<_> = (0..3).map(|_| rx.recv().unwrap()).collect();
        let name = Some("isobox-test-worker".to_owned());
        assert_eq!(got, vec![(0, name.clone()), (1, name.clone()), (2, name)]);
    }
}
