//! A spawn held just before its exec (**parent**): [`Sandbox::spawn_held`](crate::Sandbox::spawn_held).
//!
//! The sandbox is set up as a pooled one is (isobox's waiter as its program, under the
//! sandbox's filter), with the ids of the command, which goes to the waiter at once with a
//! gate descriptor (`pool::message`). The waiter puts the descriptors in place, changes
//! directory, writes a held record and reads one byte from the gate before it executes
//! (`src/sys/init/wait.rs`). Whoever holds the gate's other end starts the program: this
//! process ([`HeldChild::started`] then waits for the exec), or another one, after
//! [`HeldChild::detach`] has left the sandbox running without this process (an OCI runtime's
//! `create`, then `start`).
//!
//! Its refusals are [`error`]'s `HeldError`; the checks, message and hand-over are the
//! pool's (`pool::check`, `pool::handover`).

pub(crate) mod error;

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::build::SandboxPlan;
use crate::child::describe::setup_failure;
use crate::child::plan::{ChildLaunch, ControlFds, ExecPlan};
use crate::command::Command;
use crate::error::Error;
use crate::pool::{check, handover, message};
use crate::spawn::handle::Child;
use crate::spawn::prepare;
use crate::spawn::stdio::StdioDefaults;
use error::HeldError;

/// The waiter's held record's magic (`src/sys/init/wait.rs`).
const HELD_MAGIC: u32 = 0x1503_4e1d;
const RECORD_LEN: usize = 12;

/// A sandbox set up to the last step before its program's exec, waiting for a byte on its
/// gate (see [`Sandbox::spawn_held`](crate::Sandbox::spawn_held)).
///
/// Dropping it kills the sandbox, as dropping a [`Child`] does.
#[derive(Debug)]
pub struct HeldChild {
    child: Child,
    sock: OwnedFd,
    exec: ExecPlan,
    plan: Arc<SandboxPlan>,
}

/// A held sandbox left running without the process that spawned it ([`HeldChild::detach`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detached {
    pid: u32,
    cgroup_dirs: Vec<PathBuf>,
    cgroup_parents_made: Vec<PathBuf>,
}

impl Detached {
    /// A detached sandbox as another process recorded it (an OCI runtime's state file):
    /// its pid, its cgroup directories and the parent directories made for them.
    #[must_use]
    pub fn from_parts(pid: u32, cgroup_dirs: Vec<PathBuf>, cgroup_parents_made: Vec<PathBuf>) -> Detached {
        Detached { pid, cgroup_dirs, cgroup_parents_made }
    }

    /// The parent directories the spawn made for the cgroup (a `cgroup_parent` that did not
    /// exist), topmost first: [`remove_cgroups`](Self::remove_cgroups) removes those that are
    /// empty by then.
    #[must_use]
    pub fn cgroup_parents_made(&self) -> &[PathBuf] {
        &self.cgroup_parents_made
    }

    /// Kills every process left in the sandbox's cgroup directories and removes them,
    /// retrying while the kernel holds them busy, then the parents made for them, deepest
    /// first, where empty (another sandbox's cgroup in one keeps it). A directory that is gone
    /// already is fine. Refused before anything is done to it
    /// ([`CgroupError::Remove`](crate::CgroupError::Remove)): one that is not a leaf cgroup
    /// below a hierarchy's mount point, or is the caller's own cgroup or an ancestor of it;
    /// and one still busy after 5 s is an error.
    pub fn remove_cgroups(&self) -> Result<(), Error> {
        crate::cgroup::left::remove(&self.cgroup_dirs)?;
        crate::cgroup::left::remove_empty_parents(&self.cgroup_parents_made);
        Ok(())
    }

    /// The sandbox's first process, on the host: the program once the gate opens.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The sandbox's cgroup directories, left in place: whoever ends the sandbox removes them
    /// (every process in them killed first, the directories then removed).
    #[must_use]
    pub fn cgroup_dirs(&self) -> &[PathBuf] {
        &self.cgroup_dirs
    }
}

/// `Sandbox::spawn_held`.
pub(crate) fn spawn(plan: &Arc<SandboxPlan>, cmd: &Command, gate: OwnedFd) -> Result<HeldChild, Error> {
    check::filter_allows_held(&plan.child.seccomp).map_err(HeldError::from_pool)?;
    let mut command = prepare::prepare_handed(cmd, plan, StdioDefaults::SPAWN)?;
    let msg = handover::encode(&command, plan, Some(gate.as_raw_fd())).map_err(HeldError::from_pool)?;
    let (mut child, sock) = crate::spawn::spawn_waiter_as(plan, command.exec.ids.clone())?;
    let started = Instant::now();
    message::send(sock.as_fd(), &msg).map_err(HeldError::Handover)?;
    drop(gate);
    // The waiter's first record: held, or why not (fewer bytes: it exited).
    let record = crate::sys::fd::read_up_to(sock.as_fd(), RECORD_LEN).map_err(HeldError::Handover)?;
    command.child_ends.clear(); // the waiter has its copies, or is gone
    if !is_held(&record) {
        drop(child); // killed and reaped
        return Err(failure(&record, &command.exec, plan));
    }
    child.attach_stdio(&mut command.parent_ends, started);
    let child = child.with_plan(Arc::clone(plan));
    Ok(HeldChild { child, sock, exec: command.exec, plan: Arc::clone(plan) })
}

impl HeldChild {
    /// The sandbox's first process, on the host (the program's, once started).
    #[must_use]
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The sandbox's cgroup directories (none without limits or a cgroup parent).
    #[must_use]
    pub fn cgroup_dirs(&self) -> Vec<&Path> {
        self.child.cgroup_dirs()
    }

    /// Waits until the program has been executed, once a byte has been written to the gate
    /// (by this process or another), and returns its [`Child`]. A failure of the last steps
    /// (the exec, or a gate closed without a byte: ECANCELED) is the error, as a spawn's.
    pub fn started(self) -> Result<Child, Error> {
        let HeldChild { child, sock, exec, plan } = self;
        let report = crate::sys::fd::read_to_eof(sock.as_fd()).map_err(HeldError::Handover)?;
        if report.is_empty() {
            return Ok(child);
        }
        drop(child);
        Err(failure(&report, &exec, &plan))
    }

    /// Leaves the sandbox running, held, without this process: it outlives this handle and
    /// this process, until the gate's byte starts its program. Its cgroup directories are left
    /// too ([`Detached::cgroup_dirs`]). Nothing reports the program's exec any more: a failure
    /// there ends the process with status 127.
    ///
    /// The sandbox's first process stays this process's child: a caller that lives on after
    /// it has exited reaps it (`waitpid` on [`Detached::pid`]) or it stays a zombie; one that
    /// exits first hands it to its subreaper (an OCI runtime's `create` exits at once).
    ///
    /// Refused, with the sandbox killed, where a part of it ends with this process: a sandbox
    /// that dies with its parent ([`die_with_parent`](crate::SandboxBuilder::die_with_parent)
    /// is on by default), a user-mode or veth network, seccomp notify rules, an overlay
    /// upper directory that is not kept, piped stdio.
    pub fn detach(self) -> Result<Detached, Error> {
        if self.plan.child.die_with_parent {
            return Err(HeldError::DiesWithParent.into());
        }
        let (pid, cgroup_dirs, cgroup_parents_made) =
            self.child.leave_running().map_err(|what| HeldError::CannotDetach { what })?;
        Ok(Detached { pid, cgroup_dirs, cgroup_parents_made })
    }
}

fn is_held(record: &[u8]) -> bool {
    record.len() == RECORD_LEN && record[8..] == HELD_MAGIC.to_ne_bytes()
}

/// A failure record (or a cut-short one) as a spawn's error.
fn failure(report: &[u8], exec: &ExecPlan, plan: &SandboxPlan) -> Error {
    let none = ControlFds { go_read: -1, go_write: -1, report_read: -1, report_write: -1 };
    let launch = ChildLaunch::new(exec, none, false, &[]);
    setup_failure(report, &plan.child, &launch)
}
