//! `spawn_shared` with a minimal child that keeps its contract, and parent steps that fail.

use std::os::fd::{AsRawFd, RawFd};
use std::sync::{mpsc, Arc, Barrier};
use std::time::Duration;

use nix::fcntl::OFlag;
use nix::unistd::{pipe2, Pid};

use super::*;

/// The child's view of its pipes.
struct Fds {
    go_read: RawFd,
    go_write: RawFd,
    report_read: RawFd,
}

/// Closes the parent's ends, waits for go, exits 0 (or 1 on EOF).
fn child(fds: &Fds) -> ! {
    let _ = super::super::child::close(fds.go_write);
    let _ = super::super::child::close(fds.report_read);
    let mut byte = [0u8; 1];
    match super::super::child::read(fds.go_read, &mut byte) {
        Ok(1) => super::super::child::exit_group(0),
        _ => super::super::child::exit_group(1),
    }
}

/// Parent steps whose first one always fails.
struct Failing;

impl ParentSteps for Failing {
    type Error = &'static str;
    fn before_release(&mut self, _pid: Pid, _born_in_cgroup: bool) -> Result<(), Self::Error> {
        Err("refused")
    }
    fn second_release(&self) -> bool {
        false
    }
    fn while_running(&mut self, _pid: Pid) -> Result<(), Self::Error> {
        Ok(())
    }
}

fn failing_spawn() {
    let (go_read, go_write) = pipe2(OFlag::O_CLOEXEC).unwrap();
    let (report_read, report_write) = pipe2(OFlag::O_CLOEXEC).unwrap();
    let fds =
        Fds { go_read: go_read.as_raw_fd(), go_write: go_write.as_raw_fd(), report_read: report_read.as_raw_fd() };
    let pipes = ControlPipes { go_write, report_read, report_write, child_only: Vec::new() };
    // SAFETY: `child` is async-signal-safe, makes its calls through sys::child, reads only
    // `fds`, closes its copy of go_write, waits for one go byte and exits on EOF.
    let spawned = unsafe { spawn_shared(0, true, &fds, child, pipes, None, &mut Failing) }.unwrap();
    assert_eq!(spawned.prepared, Err("refused"));
    drop(go_read);
    let status = nix::sys::wait::waitpid(spawned.pid, None).unwrap();
    assert!(!matches!(status, nix::sys::wait::WaitStatus::Exited(_, 0)), "released despite the failure: {status:?}");
}

#[test]
fn two_spawns_failing_at_once_both_return() {
    // Each child holds a copy of the other spawn's pipes until it exits; neither may wait for
    // the other's EOF.
    let (done_tx, done_rx) = mpsc::channel();
    let barrier = Arc::new(Barrier::new(2));
    for _ in 0..2 {
        let (barrier, done_tx) = (barrier.clone(), done_tx.clone());
        std::thread::spawn(move || {
            for _ in 0..200 {
                barrier.wait();
                failing_spawn();
            }
            done_tx.send(()).unwrap();
        });
    }
    for _ in 0..2 {
        done_rx.recv_timeout(Duration::from_secs(60)).expect("two failing spawns waited on each other");
    }
}
