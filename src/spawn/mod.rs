//! One spawn (**parent**): from a command to a running [`handle::Child`], in one screen.
//!
//! - plan: [`prepare`] and [`stdio`] make the command's half of the child's plan, [`pipes`]
//!   the control pipes.
//! - apply: [`spawn`] below, with [`parent_steps`] for the parent's work while the child waits.
//! - describe: [`failure`] (a failed clone); the child's own failures are `child::describe`'s.
//! - [`handle`] and [`exit_report`]: the running sandbox and how it ended.

pub(crate) mod dumpable;
pub(crate) mod exit_report;
pub(crate) mod failure;
pub(crate) mod handle;
pub(crate) mod init;
pub(crate) mod parent_steps;
pub(crate) mod pipes;
pub(crate) mod prepare;
pub(crate) mod reaper;
pub(crate) mod stdio;

use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Instant;

use crate::build::SandboxPlan;
use crate::cgroup::spawn::CgroupSpawn;
use crate::child::describe::setup_failure;
use crate::child::plan::{ChildLaunch, ChildPlan};
use crate::command::Command;
use crate::error::{Error, SpawnError};
use crate::mount::overlay::upper as overlay_upper;
use crate::net::mode::error::NetworkError;
use crate::net::mode::netns::Entered;
use crate::seccomp::notify::Notifier;
use crate::sys::launch::spawn_child;
use handle::Child;
use parent_steps::ParentWork;
use stdio::StdioDefaults;

/// Runs `cmd` in a new sandbox of `sandbox`. Returns once the program has been executed; a
/// failure on the way is a typed error and leaves nothing running.
pub(crate) fn spawn(sandbox: &SandboxPlan, cmd: &Command, defaults: StdioDefaults) -> Result<Child, Error> {
    let command = prepare::prepare(cmd, sandbox, defaults)?;
    launch(sandbox, command, None)
}

/// Starts a pooled sandbox: everything set up, its program isobox's waiter, which takes the
/// command through the returned socket (see `pool`).
pub(crate) fn spawn_waiter(sandbox: &SandboxPlan) -> Result<(Child, OwnedFd), Error> {
    start_waiter(sandbox, prepare::for_waiter(sandbox)?, false)
}

/// A held spawn's sandbox (see `held`): a pooled sandbox whose ids are those of `ids`, the
/// command it will be given.
pub(crate) fn spawn_waiter_as(sandbox: &SandboxPlan, ids: crate::user::ids::Ids) -> Result<(Child, OwnedFd), Error> {
    start_waiter(sandbox, prepare::for_waiter_as(ids), false)
}

/// [`spawn_waiter`]; `holds`: the sandbox will only be held open (see
/// [`spawn_beside_waiter`]): by its init, which then has no program, or by the waiter, pid 1
/// of a sandbox without an init.
fn start_waiter(
    sandbox: &SandboxPlan,
    command: prepare::PreparedCommand,
    holds: bool,
) -> Result<(Child, OwnedFd), Error> {
    let (ours, theirs) = waiter_socket()?;
    let (exe, exe_copy) =
        crate::sys::init_exe::init_fd_at_or_above(3).map_err(SpawnError::io("making isobox's waiter executable"))?;
    let child = launch(sandbox, command, Some((exe, theirs.as_raw_fd(), holds)))?;
    drop((theirs, exe_copy)); // the child has exec'd the waiter with its copies
    Ok((child, ours))
}

/// Starts a pooled sandbox whose command will be the caller's child: the sandbox's pid 1
/// holds it open (its init, or the waiter of a sandbox without one), and a waiter started in
/// it as `Child::exec` starts a command takes the command through the returned socket. Its
/// `Child` owns the first (see `pool`).
pub(crate) fn spawn_beside_waiter(sandbox: &Arc<SandboxPlan>) -> Result<(Child, OwnedFd), Error> {
    // The holder watches for the command's exit to end the sandbox (`pool/watch.rs`).
    let (first, first_sock) = start_waiter(sandbox, prepare::for_waiter(sandbox)?, true)?;
    let first = first.with_plan(Arc::clone(sandbox));
    let (ours, theirs) = waiter_socket()?;
    let (exe, exe_copy) =
        crate::sys::init_exe::init_fd_at_or_above(3).map_err(SpawnError::io("making isobox's waiter executable"))?;
    let beside = first.exec_waiter(exe, theirs.as_raw_fd())?;
    drop((theirs, exe_copy)); // the waiter has its copies
    Ok((beside.with_holder(first, first_sock), ours))
}

/// A stream socket pair, close-on-exec; the child's end above the standard descriptors.
fn waiter_socket() -> Result<(OwnedFd, OwnedFd), Error> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    let (ours, theirs) = socketpair(AddressFamily::Unix, SockType::Stream, None, SockFlag::SOCK_CLOEXEC)
        .map_err(|e| SpawnError::io("creating the pool's socket")(e.into()))?;
    let theirs = match theirs.as_raw_fd() {
        0..=2 => {
            crate::sys::fd::dup_at_or_above(theirs.as_fd(), 3).map_err(SpawnError::io("moving the pool's socket"))?
        }
        _ => theirs,
    };
    Ok((ours, theirs))
}

/// The spawn proper, of a prepared command; `waiter`: isobox's program and the socket of a
/// pooled sandbox.
fn launch(
    sandbox: &SandboxPlan,
    mut command: prepare::PreparedCommand,
    waiter: Option<(RawFd, RawFd, bool)>,
) -> Result<Child, Error> {
    let owner = overlay_upper::owner(sandbox.user.maps.as_ref(), sandbox.caller.is_root());
    let upper = overlay_upper::SpawnUpper::for_spawn(&sandbox.child.mounts, owner)?;
    let (mut cgroup, join) = CgroupSpawn::plan(sandbox.cgroup.as_ref(), sandbox.caller.is_root())?;
    let clone_into = cgroup.clone_into();
    let pipes = pipes::ControlPipes::new(&command.exec.fd_moves)?;
    let mut init = sandbox.child.init.then(|| init::InitSpawn::new(&command.exec.fd_moves)).transpose()?;
    let second_release = cgroup.is_late();
    let mut launch = ChildLaunch::new(&command.exec, pipes.child_view(), second_release, &join);
    let seccomp_program = sandbox.child.seccomp.for_spawn(launch.control.report_write, launch.control.go_read);
    launch.seccomp_program = seccomp_program.as_deref();
    if let Some(fds) = init.as_ref().map(init::InitSpawn::child_view) {
        launch = launch.with_init(fds.exe, fds.status_write, fds.left, fds.stack);
    }
    if let Some((exe, sock, holds)) = waiter {
        launch = launch.with_waiter(exe, sock, holds);
    }
    launch.overlay_upper = upper.as_ref().map(overlay_upper::SpawnUpper::child_path);
    let hands_over = launch.hands_over();
    let plan = ChildPlan { setup: &sandbox.child, launch };
    let started = Instant::now();
    // An unprivileged caller writes the child's id maps itself: they must be its to open.
    let writes_maps = sandbox.user.maps.is_some() && !sandbox.caller.is_root();
    let dumpable = dumpable::DumpableGuard::new(writes_maps);
    let maps = sandbox.user.maps.as_ref();
    let unprivileged = !sandbox.caller.is_root();
    let veth = sandbox.network.veth();
    let mut work = ParentWork {
        cgroup: &mut cgroup,
        maps,
        second_release,
        hands_over,
        listener: None,
        unprivileged,
        veth,
        host_veth: None,
        user_net: sandbox.network.user_mode(),
        user_net_process: None,
    };
    let (mut to_child, go_read) = pipes.split();
    to_child.child_only = init.as_mut().map(init::InitSpawn::take_child_only).unwrap_or_default();
    let flags = sandbox.namespaces.clone_flags();
    // Network::Join: the child is born in the namespace this thread enters for the clone.
    let joined = sandbox.network.joined().map(|ns| Entered::enter(ns, |errno| NetworkError::Join { errno }));
    let joined = joined.transpose()?;
    let spawned = spawn_child(flags, &plan, to_child, clone_into.as_ref().map(|f| f.as_fd()), &mut work);
    drop(joined); // back in this thread's own namespace
    let spawned = spawned.map_err(|failure| failure::spawn_failure(failure, sandbox))?;
    let notifier = work.listener.take().map(Notifier::new);
    let host_veth = work.host_veth.take();
    let user_net = work.user_net_process.take();
    drop(dumpable); // the child has exec'd or exited: its id changes no longer reach us
    drop(go_read);
    command.child_ends.clear(); // the child has its copies (or is gone)
    let init_status = init.map(init::InitSpawn::finish);
    let child = Child::new(spawned.pid, spawned.pidfd, &mut command.parent_ends, started, cgroup.into_cgroup())
        .with_notifier(notifier)
        .with_init_status(init_status)
        .with_veth(host_veth)
        .with_user_net(user_net);
    spawned.prepared?;
    if spawned.report.is_empty() {
        return Ok(child.with_upper(upper));
    }
    drop(child); // reaps the child, which has exited after writing its report
    Err(setup_failure(&spawned.report, &sandbox.child, &plan.launch))
}
