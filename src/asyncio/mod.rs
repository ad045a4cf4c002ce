//! The async child for tokio (feature `tokio`, **parent** code only).
//!
//! - [`start`]: `Sandbox::spawn_async`: the command is copied, the synchronous spawn runs on
//!   isobox's spawner thread ([`worker`]), and the `Child` it returns is wrapped on the
//!   runtime's side.
//! - [`child`]: [`AsyncChild`](child::AsyncChild), a `Child` whose wait, kill and stdio are
//!   async: its pidfd in tokio's `AsyncFd`, its pipe ends as tokio pipes. How the exit is
//!   reported stays in `Child::try_wait`, which `wait` calls once the pidfd is readable.
//! - [`output`]: `wait_with_output`, both pipes read concurrently.
//! - [`worker`]: the two long-lived threads isobox owns, the spawner (the die-with-parent
//!   signal follows the spawning *thread*, and tokio's blocking threads exit when idle) and
//!   the reaper (dropping an unwaited `Child` blocks until it is reaped).

pub(crate) mod child;
pub(crate) mod output;
pub(crate) mod start;
pub(crate) mod worker;
