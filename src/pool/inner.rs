//! What a pool and its filler share (**parent**): the sandbox, the idle sandboxes, and how
//! one more is made.

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{priority, watch};
use crate::build::SandboxPlan;
use crate::error::{Error, SpawnError};
use crate::spawn::handle::Child;
use crate::user::ids::Ids;

/// The step a pooled sandbox fails at when its command cannot have the caller's priority.
const GIVE_BACK: &str = "giving a pooled command the CPU priority and the CPUs of the caller's threads";
/// The step a command-beside sandbox fails at when its holder cannot watch the command.
const ARM: &str = "having a pooled sandbox's holder (its pid 1) watch for its command's exit";

/// One sandbox waiting in the pool: its processes (the init and the waiter, or the waiter
/// alone; beside: the holder, with the command's waiter) and the parent's end of its socket.
pub(crate) struct Pooled {
    pub child: Child,
    pub sock: OwnedFd,
}

pub(crate) struct Inner {
    pub plan: Arc<SandboxPlan>,
    pub size: usize,
    /// The ids every pooled sandbox runs its command as.
    pub ids: Ids,
    pub idle: Mutex<Vec<Pooled>>,
    /// The pool was dropped: the filler stops.
    pub closed: AtomicBool,
    /// Top the pool up after each spawn (`SandboxPool::set_auto_refill`).
    pub auto_refill: AtomicBool,
    /// A timed refill of this pool is queued on a pool thread: the spawns until it is due
    /// queue no other (each would wake that thread in the middle of a spawn).
    pub timed_refill: AtomicBool,
    /// Each command runs beside the sandbox's first process, as the caller's child, instead
    /// of as that process's own program (see `beside`).
    pub beside: bool,
    /// Refilled by the background pool thread (maybe lowered to nice 19): a command-beside
    /// pool whose `wait` waits for none of the sandbox's teardown. Not one whose command is
    /// the sandbox's program (it would inherit the low priority), nor one whose `wait`
    /// removes a directory upper (it waits for the sandbox to be gone).
    pub refills_in_background: bool,
}

/// Has the holder of `child`'s sandbox (its pid 1: the init, or the waiter of a sandbox
/// without one) end it once `child`'s process has exited (`pool/watch.rs`), and gives it the
/// share of the CPU its exit then needs.
fn arm_holder(child: &Child) -> Result<(), Error> {
    let (Some((first, holder_sock)), Some(pidfd)) = (child.holder(), child.pidfd()) else {
        return Err(SpawnError::io(ARM)(std::io::Error::other("no holder or no pidfd")).into());
    };
    let holder = watch::arm(holder_sock, pidfd).map_err(SpawnError::io(ARM))?;
    if holder != first.id() {
        return Err(SpawnError::io(ARM)(std::io::Error::other(format!("answered by {holder}, not pid 1"))).into());
    }
    // Only a busy machine's slower end of the sandbox if it fails (the holder gone already,
    // say): not worth the sandbox.
    let _ = priority::for_exit(holder);
    Ok(())
}

impl Inner {
    pub fn idle(&self) -> MutexGuard<'_, Vec<Pooled>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Starts one pooled sandbox (on the calling thread, whose exit kills it with
    /// `die_with_parent`: only the pool threads call this).
    pub fn make_one(&self) -> Result<Pooled, Error> {
        let (child, sock) = match self.beside {
            true => {
                // Made on the lowered background thread, the command's own process gets the
                // caller's priority back (its sandbox's processes keep the low one).
                let (child, sock) = crate::spawn::spawn_beside_waiter(&self.plan)?;
                priority::give_back(child.id()).map_err(SpawnError::io(GIVE_BACK))?;
                arm_holder(&child)?;
                (child, sock)
            }
            false => {
                let (child, sock) = crate::spawn::spawn_waiter(&self.plan)?;
                (child.with_plan(Arc::clone(&self.plan)), sock)
            }
        };
        Ok(Pooled { child, sock })
    }

    /// Makes one sandbox if the pool is short of one (and open). Returns whether it is full
    /// (or closed) now.
    pub fn fill_one(&self) -> Result<bool, Error> {
        if self.is_closed() || self.idle().len() >= self.size {
            return Ok(true);
        }
        let pooled = self.make_one()?;
        let mut idle = self.idle();
        if self.is_closed() || idle.len() >= self.size {
            return Ok(true); // `pooled` is dropped: killed and reaped
        }
        idle.push(pooled);
        Ok(idle.len() >= self.size)
    }
}
