//! Handing a command to a pooled sandbox (**parent**): the message and the descriptors go to
//! isobox's waiter over the sandbox's socket; EOF means it exec'd the command, a 12-byte
//! record says which step failed.

use std::io;
use std::os::fd::{AsFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Instant;

use super::error::{PoolError, PoolLimit};
use super::inner::Pooled;
use super::message::{self, TooBig};
use crate::build::SandboxPlan;
use crate::child::describe::setup_failure;
use crate::child::plan::{ChildLaunch, ControlFds};
use crate::error::Error;
use crate::spawn::handle::Child;
use crate::spawn::prepare::PreparedCommand;

/// A command encoded for the waiter, and the process that has it once delivered.
pub(crate) struct Delivered {
    child: Child,
    sock: OwnedFd,
    started: Instant,
}

/// Encodes `command` for a pooled sandbox, with the sandbox's open-files limit, which the
/// waiter sets once the descriptors are in place (the fill-time recipe leaves it to it), and
/// a held spawn's gate.
pub(crate) fn encode(
    command: &PreparedCommand,
    plan: &SandboxPlan,
    gate: Option<RawFd>,
) -> Result<message::Message, PoolError> {
    let rlimits = &plan.child.rlimits;
    let nofile = rlimits.nofile.and_then(|i| rlimits.list.get(i)).map(|r| (r.soft, r.hard));
    message::encode(&command.exec, nofile, gate).map_err(too_big)
}

/// Sends `msg` to `pooled`. On failure (the sandbox died while it waited) the sandbox is
/// dropped, and the command, not delivered, may go to another.
pub(crate) fn deliver(pooled: Pooled, msg: &message::Message) -> io::Result<Delivered> {
    let started = Instant::now();
    let Pooled { child, sock } = pooled;
    message::send(sock.as_fd(), msg)?;
    Ok(Delivered { child, sock, started })
}

/// Waits until the waiter has executed the command (EOF) or failed (its record, returned).
/// `Err`: the sandbox died before it read the command (the socket was reset with the command
/// unread), which another sandbox may take.
pub(crate) fn await_exec(d: Delivered) -> io::Result<(Delivered, Vec<u8>)> {
    let report = crate::sys::fd::read_to_eof(d.sock.as_fd())?;
    Ok((d, report))
}

/// The `Child`, now running the command, or the error its waiter reported.
pub(crate) fn finish(
    d: Delivered,
    report: &[u8],
    mut command: PreparedCommand,
    plan: &Arc<SandboxPlan>,
) -> Result<Child, Error> {
    let Delivered { mut child, started, .. } = d;
    command.child_ends.clear(); // the program has its copies
    if !report.is_empty() {
        drop(child); // killed and reaped
        let none = ControlFds { go_read: -1, go_write: -1, report_read: -1, report_write: -1 };
        let launch = ChildLaunch::new(&command.exec, none, false, &[]);
        return Err(setup_failure(report, &plan.child, &launch));
    }
    child.attach_stdio(&mut command.parent_ends, started);
    Ok(child)
}

fn too_big(e: TooBig) -> PoolError {
    let (what, got, max) = match e {
        TooBig::Descriptors(n) => (PoolLimit::Descriptors, n, message::MAX_FDS),
        TooBig::Strings(n) => (PoolLimit::Strings, n, message::MAX_STRINGS),
        TooBig::Bytes(n) => (PoolLimit::Bytes, n, message::BODY_MAX),
    };
    PoolError::TooBig { what, got, max }
}
