//! A pool of prewarmed sandboxes (**parent**): [`SandboxPool`] keeps sandboxes of one
//! `Sandbox` fully set up (namespaces, mounts, cgroup with its limits, ids, capabilities,
//! Landlock, the seccomp filter, isobox's init), each waiting in isobox's waiter for a
//! command; `spawn` hands it the program, arguments, environment, working directory and
//! descriptors, and the waiter executes it. One command per sandbox; a thread of isobox's
//! tops the pool up in the background.
//!
//! - [`check`]: whether the sandbox's filter lets the waiter work;
//! - [`message`]: the command as the waiter reads it; [`handover`]: giving it over;
//! - [`inner`] and [`filler`]: the idle sandboxes and the thread that makes them;
//!   [`priority`]: that thread's CPU priority, and its commands'.

pub(crate) mod check;
pub(crate) mod error;
pub(crate) mod filler;
pub(crate) mod handover;
pub(crate) mod inner;
pub(crate) mod message;
pub(crate) mod priority;
pub(crate) mod watch;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::build::SandboxPlan;
use crate::command::Command;
use crate::error::Error;
use crate::spawn::exit_report::{ExitReport, Output};
use crate::spawn::handle::{AfterReap, Child};
use crate::spawn::prepare;
use crate::spawn::stdio::StdioDefaults;
use error::PoolError;
use inner::{Inner, Pooled};

/// How long after a spawn the pool is topped up if the command has not ended by then.
const REFILL_DELAY: Duration = Duration::from_millis(10);

/// The most sandboxes one pool holds.
pub const MAX_POOL_SIZE: usize = 256;

/// Sandboxes of one [`Sandbox`](crate::Sandbox), set up ahead and waiting for a command:
/// a pooled spawn costs about what `std::process::Command` does (BENCHMARKS.md).
///
/// Each sandbox runs one command and is then gone, as with [`Sandbox::spawn`](crate::Sandbox::spawn); tenants
/// share nothing. After each spawn a thread of isobox's makes a new one in the background.
///
/// With a pid namespace (and no cgroup), the command runs beside the sandbox's first process,
/// as [`Child::exec`](crate::Child::exec) runs one: it is the caller's own child, so its exit
/// reaches `wait` directly, and the sandbox ends when the command exits. Its pid 1 holds it
/// open until then: isobox's init, which has no program of its own in a pooled sandbox (or,
/// with [`init(false)`](crate::SandboxBuilder::init), a waiter of isobox's). It watches the
/// command's process and exits with it, which ends what the command left running, as a
/// sandbox ends with its program; it is reaped on a thread of isobox's once the command has
/// been reaped (in `wait` itself when a directory upper is to be removed after it). Its
/// `Child::id` is the command's pid (pid 2 inside, as in a spawn), signals go to the command
/// itself, its `kill` ends the whole sandbox. The holder runs with the command's ids, but a
/// stop sent from inside does not reach a pid 1, and it is not dumpable, so not traceable
/// unless the sandbox keeps `CAP_SYS_PTRACE`: without that, nothing the command does keeps
/// its sandbox past its exit. (`output` and `wait_with_output` wait before they collect all
/// the same, so even a traced holder does not hang them.) Otherwise the command is the
/// sandbox's own program, as in a spawn.
///
/// Trade-offs:
/// - every idle sandbox holds its namespaces, its cgroup and two small processes (isobox's
///   init with a pid namespace, and its waiter): about 160 KiB of kernel memory
///   measured for a five-namespace sandbox, and 71 KiB resident in the processes
///   (BENCHMARKS.md); a pool holds at most [`MAX_POOL_SIZE`];
/// - commands run with the ids a command naming none gets ([`PoolError::Ids`] otherwise), and
///   at most 64 descriptors and 1 MiB of arguments and environment travel to a pooled
///   sandbox (its waiter receives them under the sandbox's open-files limit, then sets it);
/// - the seccomp filter is installed while the sandbox waits, so it must allow the waiter's
///   few calls ([`PoolError::FilterRefuses`]); the default profile does;
/// - the pool's sandboxes are spawned by isobox's two pool threads, which live as long as the
///   process: with `die_with_parent` they die with the process, not with a thread of yours;
/// - for a root caller (with `CAP_SYS_NICE`), a pool whose command runs beside its sandbox is
///   refilled under `SCHED_BATCH` at nice 19, on one CPU (the last the caller may use, where it
///   may use two or more), so on a busy machine a refill takes little of the CPU time the
///   commands leave, and a pool used faster than it refills serves its spawns from sandboxes
///   made then, as an empty pool does. A command refilled so runs at the scheduling, and on
///   the CPUs, of the thread that started that pool thread (the process's first `spawn` or
///   `wait` of such a pool); everything a caller waits for (the pool's creation,
///   [`fill`](Self::fill), an empty pool's spawn) is made by a second pool thread that is
///   never lowered, at the scheduling and on the CPUs of the thread that made the process's
///   first pool; the sandbox's pid 1, once made, gets `SCHED_BATCH` at the first one's nice,
///   and its CPUs, for its exit at the command's;
/// - the exit report's wall time runs from the hand-over, the cgroup's figures from the
///   sandbox's creation.
///
/// Dropping the pool kills and reaps the sandboxes still waiting; those it handed out are
/// the `Child`ren's.
#[derive(Debug)]
pub struct SandboxPool {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxPool").field("size", &self.size).field("idle", &self.idle().len()).finish()
    }
}

impl SandboxPool {
    /// A pool of `size` sandboxes of `plan`, filled before this returns.
    pub(crate) fn new(plan: Arc<SandboxPlan>, size: usize) -> Result<SandboxPool, Error> {
        if size == 0 || size > MAX_POOL_SIZE {
            return Err(PoolError::Size { size, max: MAX_POOL_SIZE }.into());
        }
        if plan.network.veth().is_some() {
            return Err(PoolError::VethAddresses.into());
        }
        let beside = runs_beside(&plan);
        // The holder runs under the sandbox's filter only where it is a waiter (no init).
        check::filter_allows_waiter(&plan.child.seccomp, beside && !plan.child.init)?;
        let ids = prepare::default_ids(&plan)?;
        let idle = Mutex::new(Vec::with_capacity(size));
        let (closed, auto_refill, timed_refill) =
            (AtomicBool::new(false), AtomicBool::new(true), AtomicBool::new(false));
        let refills_in_background = beside && !crate::mount::overlay::upper::SpawnUpper::wanted(&plan.child.mounts);
        let inner =
            Arc::new(Inner { plan, size, ids, idle, closed, auto_refill, timed_refill, beside, refills_in_background });
        filler::fill_and_wait(&inner)?;
        Ok(SandboxPool { inner })
    }

    /// Runs `cmd` in a waiting sandbox (unset stdio inherited, as [`Sandbox::spawn`]).
    ///
    /// [`Sandbox::spawn`]: crate::Sandbox::spawn
    pub fn spawn(&self, cmd: &Command) -> Result<Child, Error> {
        self.spawn_with(cmd, StdioDefaults::SPAWN)
    }

    /// Runs `cmd` to completion in a waiting sandbox, collecting its output.
    pub fn output(&self, cmd: &Command) -> Result<Output, Error> {
        self.spawn_with(cmd, StdioDefaults::OUTPUT)?.wait_with_output()
    }

    /// Runs `cmd` to completion in a waiting sandbox and returns its exit report.
    pub fn status(&self, cmd: &Command) -> Result<ExitReport, Error> {
        self.spawn(cmd)?.wait()
    }

    /// How many sandboxes wait right now.
    #[must_use]
    pub fn idle(&self) -> usize {
        self.inner.idle().len()
    }

    /// Whether a spawn has a pool thread make a new sandbox after it (default: on): once
    /// the command has ended (its exit reported by `wait`), or at most 10 ms after the spawn (one timed
    /// refill per pool at a time), whichever comes first, so that the set-up competes less
    /// with the command it replaces.
    /// Off, the pool only shrinks until [`fill`](Self::fill), so that no set-up competes with
    /// the commands for the CPU while they run: for bursts served from a full pool, refilled
    /// when the caller is idle. An empty pool's spawn makes its sandbox itself.
    pub fn set_auto_refill(&self, on: bool) {
        self.inner.auto_refill.store(on, Ordering::SeqCst);
    }

    /// Tops the pool up now (on a pool thread) and waits until it is full; the first
    /// failure is returned.
    pub fn fill(&self) -> Result<(), Error> {
        filler::fill_and_wait(&self.inner)
    }

    /// How many sandboxes the pool keeps ready.
    #[must_use]
    pub fn size(&self) -> usize {
        self.inner.size
    }

    fn spawn_with(&self, cmd: &Command, defaults: StdioDefaults) -> Result<Child, Error> {
        let command = prepare::prepare_handed(cmd, &self.inner.plan, defaults)?;
        if command.exec.ids != self.inner.ids {
            let ids = &command.exec.ids;
            return Err(PoolError::Ids { uid: ids.uid, gid: ids.gid, groups: ids.groups.clone() }.into());
        }
        let msg = handover::encode(&command, &self.inner.plan, None)?;
        let (delivered, report) = self.deliver(&msg)?;
        let child = handover::finish(delivered, &report, command, &self.inner.plan)?;
        let auto_refill = self.inner.auto_refill.load(Ordering::SeqCst);
        if auto_refill {
            // Once the command has ended, or REFILL_DELAY after the hand-over: a refill, a
            // cold spawn's work, would otherwise compete with the command it replaces.
            filler::refill_after(&self.inner, REFILL_DELAY);
        } else if !self.inner.beside {
            return Ok(child);
        }
        // Once its exit is reported: its reap, the refill, and the end of the sandbox the
        // command ran beside.
        let pool = Arc::downgrade(&self.inner);
        let end = move |holder, command| filler::after_command(&pool, holder, command);
        Ok(child.after_reap(AfterReap(Box::new(end))))
    }

    /// Sends the command to a waiting sandbox and waits until it has executed it (or said why
    /// not). A sandbox that died before it read the command (its socket closed, or reset with
    /// the command unread) is dropped and the next one tried, a few times.
    fn deliver(&self, msg: &message::Message) -> Result<(handover::Delivered, Vec<u8>), Error> {
        let mut attempts = 0;
        loop {
            let sent = handover::deliver(self.take()?, msg).and_then(handover::await_exec);
            match sent {
                Ok(done) => return Ok(done),
                Err(e) if attempts >= 3 => return Err(PoolError::Handover(e).into()),
                Err(_) => attempts += 1,
            }
        }
    }

    /// A waiting sandbox still alive, or (the pool is empty) one made now, on a pool thread.
    fn take(&self) -> Result<Pooled, Error> {
        loop {
            let next = self.inner.idle().pop();
            match next {
                Some(mut pooled) => {
                    if pooled.child.try_wait()?.is_none() && pooled.child.holder_stands() {
                        return Ok(pooled);
                    }
                    // Ended while it waited (killed from outside): try the next.
                }
                None => {
                    let one = filler::make_one(&self.inner);
                    if self.inner.auto_refill.load(Ordering::SeqCst) {
                        filler::refill_now(&self.inner);
                    }
                    return one;
                }
            }
        }
    }
}

/// Whether a pooled command of `plan` runs beside the sandbox's first process, as the
/// caller's own child started the way `Child::exec` starts one (its exit reaches the caller
/// directly, the init's report of it one wake-up later), rather than as that process's
/// program: with a pid namespace, whose init holds the sandbox until the command has exited
/// (its teardown then happens off the caller's `wait`), and without a cgroup, whose removal
/// `wait` waits for anyway, or what `Child::exec` refuses.
fn runs_beside(plan: &SandboxPlan) -> bool {
    plan.namespaces.contains(crate::namespaces::Namespaces::PID)
        && plan.cgroup.is_none()
        && crate::join::plan::check(plan, crate::kernel::version()).is_ok()
}

impl Drop for SandboxPool {
    fn drop(&mut self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        let waiting = std::mem::take(&mut *self.inner.idle());
        drop(waiting); // each Child kills and reaps its sandbox, and removes its cgroup
    }
}
