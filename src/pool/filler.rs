//! The threads that fill pools (**parent**): two for the whole process, started with the first
//! pool and never ended, because the kernel ties a sandbox's death signal (`die_with_parent`)
//! to the thread that spawned it: a thread of each pool's own would take the sandboxes it
//! handed out with it when the pool is dropped.
//!
//! - `Thread::Now` makes what a caller waits for: a pool's creation, `fill`, the sandbox of a
//!   spawn that found its pool empty, and the refills of pools that must not refill in the
//!   background (see `Inner::refills_in_background`). It keeps the caller's priority.
//! - `Thread::Background` refills the other pools after their spawns, at nice 19 (`SCHED_BATCH`)
//!   where it may be (`priority`), so nothing a caller waits for is ever behind its work.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use super::inner::{Inner, Pooled};
use crate::error::{Error, SpawnError};
use crate::spawn::handle::{Holder, Unreaped};

/// One of the two pool threads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Thread {
    Now,
    Background,
}

enum Job {
    /// Top the pool up; someone may wait for it to be full (its creation, `fill`).
    Fill { pool: Weak<Inner>, done: Option<Sender<Result<(), Error>>> },
    /// Top the pool up at `at` (a spawn's refill, unless its command ends before).
    FillAt { pool: Weak<Inner>, at: Instant },
    /// One sandbox for a spawn that found the pool empty, made here too so that it dies with
    /// the process, as the others do, not with the caller's thread.
    One { pool: Weak<Inner>, reply: Sender<Result<Pooled, Error>> },
    /// A pooled command has ended: reap it, end the sandbox it ran beside, then refill `pool`
    /// if set.
    End { command: Option<Unreaped>, holder: Option<Holder>, pool: Option<Weak<Inner>> },
}

static NOW: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
static BACKGROUND: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();

fn jobs(thread: Thread) -> Result<Sender<Job>, Error> {
    let (cell, name) = match thread {
        Thread::Now => (&NOW, "isobox-pool"),
        Thread::Background => (&BACKGROUND, "isobox-pool-bg"),
    };
    if let Some(jobs) = cell.get() {
        return Ok(jobs.lock().unwrap_or_else(|p| p.into_inner()).clone());
    }
    let (tx, rx) = mpsc::channel::<Job>();
    let inherited = super::priority::inherited();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            inherited.undo(); // started by the lowered one: not lowered itself
            serve(&rx, thread)
        })
        .map_err(SpawnError::io("starting isobox's pool thread"))?;
    // Two first pools at once may start two threads: the one that lost ends (no sender).
    let jobs = cell.get_or_init(|| Mutex::new(tx));
    Ok(jobs.lock().unwrap_or_else(|p| p.into_inner()).clone())
}

/// The thread that refills `pool` after its spawns.
fn refiller(pool: &Inner) -> Thread {
    if pool.refills_in_background {
        Thread::Background
    } else {
        Thread::Now
    }
}

/// A fill under way: the pool, and who waits for it to be full.
type Fill = (Weak<Inner>, Option<Sender<Result<(), Error>>>);

/// What the pool thread has to do besides the jobs in its channel.
#[derive(Default)]
struct Work {
    /// Fills under way, taking turns, one sandbox per step: a spawn that found its pool empty
    /// (`Job::One`) waits for at most one sandbox in the making, never a whole pool's fill.
    fills: VecDeque<Fill>,
    /// Timed refills, due at their instant.
    later: Vec<(Instant, Weak<Inner>)>,
}

/// Runs the jobs as they come (all of those queued before the next step of a fill), the
/// fills one sandbox at a time, and the timed fills when they are due.
fn serve(jobs: &Receiver<Job>, thread: Thread) {
    if thread == Thread::Background {
        super::priority::lower_this_thread();
    }
    let mut work = Work::default();
    loop {
        let next = match (work.fills.is_empty(), work.later.iter().map(|(at, _)| *at).min()) {
            (false, _) => jobs.try_recv().map_err(|e| match e {
                TryRecvError::Empty => RecvTimeoutError::Timeout,
                TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
            }),
            (true, None) => jobs.recv().map_err(|_| RecvTimeoutError::Disconnected),
            (true, Some(at)) => jobs.recv_timeout(at.saturating_duration_since(Instant::now())),
        };
        match next {
            Ok(job) => work.take(job),
            Err(RecvTimeoutError::Timeout) => {
                work.queue_due();
                work.step();
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

impl Work {
    fn take(&mut self, job: Job) {
        match job {
            Job::Fill { pool, done } => self.queue(pool, done),
            Job::FillAt { pool, at } => self.later.push((at, pool)),
            Job::One { pool, reply } => {
                if let Some(pool) = pool.upgrade() {
                    let _ = reply.send(guarded(|| pool.make_one()));
                }
            }
            Job::End { command, holder, pool } => {
                drop(command); // reaped: the init's exit waits for it
                if let Some((holder, sock)) = holder {
                    // A panic must not end the thread (see `guarded`).
                    let ended = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| holder.end_in_background()));
                    drop(ended);
                    drop(sock); // wakes the waiter, killed by now
                }
                match pool.as_ref().and_then(Weak::upgrade).map(|p| refiller(&p)) {
                    Some(Thread::Background) => self.queue(pool.unwrap_or_default(), None),
                    Some(Thread::Now) => refill(pool.unwrap_or_default()),
                    None => {}
                }
            }
        }
    }

    /// Queues a fill of `pool`; a refill nobody waits for is one per pool.
    fn queue(&mut self, pool: Weak<Inner>, done: Option<Sender<Result<(), Error>>>) {
        let queued = || self.fills.iter().any(|(p, d)| d.is_none() && Weak::ptr_eq(p, &pool));
        if done.is_some() || !queued() {
            self.fills.push_back((pool, done));
        }
    }

    /// Moves the timed refills that are due to the fills.
    fn queue_due(&mut self) {
        let now = Instant::now();
        let (due, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.later).into_iter().partition(|(at, _)| *at <= now);
        self.later = rest;
        for (_, pool) in due {
            if let Some(inner) = pool.upgrade() {
                inner.timed_refill.store(false, Ordering::SeqCst); // the next spawn queues one
            }
            if auto_refills(&pool) {
                self.queue(pool, None);
            }
        }
    }

    /// Makes one sandbox for the first fill, which then goes to the back, or is done (full,
    /// gone, or failed: its first failure goes to whoever waits).
    fn step(&mut self) {
        let Some((pool, done)) = self.fills.pop_front() else {
            return;
        };
        let result = match pool.upgrade() {
            Some(inner) => guarded(|| inner.fill_one()),
            None => Ok(true),
        };
        match (result, done) {
            (Ok(false), done) => self.fills.push_back((pool, done)),
            (result, Some(done)) => {
                let _ = done.send(result.map(drop));
            }
            (_, None) => {}
        }
    }
}

/// `f`, its panic an error: a panic must not end the thread, every pool's sandboxes would die
/// with it.
fn guarded<T>(f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(SpawnError::io("filling a pool")(std::io::Error::other("panicked")).into()))
}

fn unreachable_thread() -> Error {
    SpawnError::io("reaching isobox's pool thread")(std::io::Error::other("gone")).into()
}

/// One pooled sandbox, made on the pool thread, for a spawn that found the pool empty.
pub(crate) fn make_one(pool: &Arc<Inner>) -> Result<Pooled, Error> {
    let (tx, rx) = mpsc::channel();
    jobs(Thread::Now)?.send(Job::One { pool: Arc::downgrade(pool), reply: tx }).map_err(|_| unreachable_thread())?;
    rx.recv().unwrap_or_else(|_| Err(unreachable_thread()))
}

/// Fills `pool` on the pool thread and waits until it is full: the first failure is returned.
pub(crate) fn fill_and_wait(pool: &Arc<Inner>) -> Result<(), Error> {
    let (tx, rx) = mpsc::channel();
    let job = Job::Fill { pool: Arc::downgrade(pool), done: Some(tx) };
    jobs(Thread::Now)?.send(job).map_err(|_| unreachable_thread())?;
    rx.recv().unwrap_or_else(|_| Err(SpawnError::io("filling a pool")(std::io::Error::other("no answer")).into()))
}

/// Tops `pool` up on the thread that is never lowered, without waiting: for a spawn that
/// found it empty. The background thread gets little CPU time while the machine is busy, and
/// without this the pool would stay dry then, each spawn a cold one.
pub(crate) fn refill_now(pool: &Arc<Inner>) {
    if let Ok(jobs) = jobs(Thread::Now) {
        let _ = jobs.send(Job::Fill { pool: Arc::downgrade(pool), done: None });
    }
}

/// Asks the pool thread to top `pool` up, without waiting. A failure there shows up as an
/// empty pool, whose next spawn then makes its sandbox itself and returns the error.
pub(crate) fn refill(pool: Weak<Inner>) {
    let Some(thread) = pool.upgrade().map(|p| refiller(&p)) else {
        return;
    };
    if let Ok(jobs) = jobs(thread) {
        let _ = jobs.send(Job::Fill { pool, done: None });
    }
}

/// After a pooled command's exit was reported: the command reaped (`command`, left a zombie
/// by its `wait`), the sandbox it ran beside (`holder`) reaped, killed first in case its
/// holder did not end it at the command's exit (`pool/watch.rs`), and the pool
/// refilled (if it refills itself), on the background thread when the pool refills there:
/// the caller's `wait` sends one message. Otherwise here, as a `wait` without a pool does.
pub(crate) fn after_command(pool: &Weak<Inner>, holder: Option<Holder>, command: Option<Unreaped>) {
    let refills = auto_refills(pool);
    let (mut holder, mut command) = (holder, command);
    if pool.upgrade().is_some_and(|p| p.refills_in_background) {
        let job = Job::End { command: command.take(), holder: holder.take(), pool: refills.then(|| pool.clone()) };
        match jobs(Thread::Background).map(|jobs| jobs.send(job)) {
            Ok(Ok(())) => return,
            Ok(Err(mpsc::SendError(Job::End { command: c, holder: h, .. }))) => (command, holder) = (c, h),
            _ => {}
        }
    }
    drop(command); // reaped
    if let Some((holder, _sock)) = holder {
        holder.end_in_background();
    }
    if refills {
        refill(pool.clone());
    }
}

/// Whether `pool` is still there and still refills itself after a spawn (the caller may have
/// turned it off since that spawn).
pub(crate) fn auto_refills(pool: &Weak<Inner>) -> bool {
    pool.upgrade().is_some_and(|pool| pool.auto_refill.load(Ordering::SeqCst))
}

/// As [`refill`], `after` from now, unless a timed refill of `pool` is queued already.
pub(crate) fn refill_after(pool: &Arc<Inner>, after: Duration) {
    if pool.timed_refill.swap(true, Ordering::SeqCst) {
        return;
    }
    match jobs(refiller(pool)) {
        Ok(jobs) if jobs.send(Job::FillAt { pool: Arc::downgrade(pool), at: Instant::now() + after }).is_ok() => {}
        _ => pool.timed_refill.store(false, Ordering::SeqCst),
    }
}
