//! Starting the child (**parent**): a clone that shares the parent's memory until the child
//! execs.
//!
//! Like `posix_spawn`, the child is cloned with `CLONE_VM` onto a stack of its own, so the
//! clone copies no page tables and costs the same whatever the parent's size. Unlike
//! `posix_spawn` the parent is not suspended (`CLONE_VFORK`) because it has work to do while
//! the child waits (id maps, cgroup placement). That makes three rules, all enforced here:
//! 1. The child only reads what `arg` borrows and writes to its own stack.
//! 2. This function does not return (and so does not free the stack or let `arg` go) until
//!    the report pipe reaches EOF: the child has exec'd (the pipe is close-on-exec) or died.
//!    A panic in between kills and reaps the child first. A handoff message the child writes
//!    before exec (a seccomp listener's number) is read, and answered with one more go byte,
//!    before that wait.
//! 3. All signals are blocked across the clone, so no handler of the parent runs on the
//!    child's stack before the child resets them (see `sys::child::reset_signals`).
//!
//! # Safety
//! [`spawn_shared`] is an `unsafe fn`: its caller vouches for the child's code (its `# Safety`
//! section). The `unsafe` blocks inside are the clone itself and turning the clone argument
//! back into a reference in the child.

use std::ffi::c_void;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

use super::clone3::{clone3_raw, CloneArgs, CLONE_INTO_CGROUP};
use super::raw;
use super::stack::Stack;

/// What the parent gets back from [`spawn_shared`].
#[derive(Debug)]
pub struct SharedSpawn<E> {
    pub pid: Pid,
    pub pidfd: Option<OwnedFd>,
    /// The result of the parent's own steps between clone and release.
    pub prepared: Result<(), E>,
    /// Everything the child wrote on the report pipe: empty means it exec'd.
    pub report: Vec<u8>,
}

/// Which part of [`spawn_shared`] failed.
#[derive(Debug)]
pub enum SpawnFailure {
    /// Mapping the child's stack.
    Stack(io::Error),
    /// The clone system call itself (namespace creation problems show up here).
    Clone(io::Error),
    /// Writing the go byte or reading the report pipe.
    Control(io::Error),
}

/// The parent's work on a cloned child, between the clone and the child's exec.
pub trait ParentSteps {
    /// What a step fails with.
    type Error;
    /// Runs while the child waits for its first go byte; `born_in_cgroup` says the clone
    /// already put it in the requested cgroup.
    fn before_release(&mut self, pid: Pid, born_in_cgroup: bool) -> Result<(), Self::Error>;
    /// Whether the child waits for a second go byte, sent once [`Self::while_running`] succeeds.
    fn second_release(&self) -> bool;
    /// Runs while the child sets itself up (only if [`Self::second_release`]).
    fn while_running(&mut self, pid: Pid) -> Result<(), Self::Error>;
    /// Non-zero: after its last release the child writes a message of this many bytes on the
    /// report pipe (or a failure record of the same length) and waits for one more go byte,
    /// sent once [`Self::take_handoff`] accepts the message.
    fn handoff_len(&self) -> usize {
        0
    }
    /// Takes what the child's message announces (it waits meanwhile): `Ok(true)` if the
    /// message was the announcement, `Ok(false)` if it was something else (a failure record,
    /// kept as the report).
    fn take_handoff(&mut self, _pidfd: Option<BorrowedFd<'_>>, _message: &[u8]) -> Result<bool, Self::Error> {
        Ok(false)
    }
}

/// The pipe ends [`spawn_shared`] takes over.
#[derive(Debug)]
pub struct ControlPipes {
    /// The parent writes one byte here to release the child; dropping it unsent makes the
    /// child exit.
    pub go_write: OwnedFd,
    pub report_read: OwnedFd,
    /// The parent's copy of the child's write end; closed right after the clone.
    pub report_write: OwnedFd,
    /// Other descriptors only the child uses, closed right after the clone too.
    pub child_only: Vec<OwnedFd>,
}

struct ChildStart<'a, T> {
    arg: &'a T,
    child: fn(&T) -> !,
}

/// Clones a child that runs `child(arg)` with namespace `flags` (born in `cgroup` where the
/// kernel has CLONE_INTO_CGROUP), runs the parent's `steps`, releasing the child with one go
/// byte after each that succeeds, and waits until the child has exec'd or exited.
///
/// # Safety
/// `child` runs in a process that shares this process's memory, on a stack of its own, while
/// every other thread of the parent keeps running, until it execs or exits. The caller
/// promises that `child`:
/// - is async-signal-safe: it does not allocate, lock, format or unwind (no panic);
/// - makes its system calls through [`super::child`], which leaves the shared `errno` alone;
/// - reads only `arg` and what `arg` borrows, and writes only its own stack;
/// - closes its copy of `go_write`, reads one byte from the go pipe at each release point
///   (two when [`ParentSteps::second_release`]) and exits if it reads EOF (a step failed, or
///   the parent died);
/// - when [`ParentSteps::handoff_len`] is non-zero, after its last release writes one message
///   of that length on the report pipe in a single write, then reads one more go byte (and
///   exits on EOF) before exec;
/// - ends in execve or exit_group, never returning (its type, `fn(&T) -> !`, says so).
///
/// This function keeps its side: it does not return, and so does not free the stack or let
/// `arg` go, before the report pipe is at EOF, and it kills and reaps the child on any early
/// exit.
pub unsafe fn spawn_shared<T: Sync, S: ParentSteps>(
    flags: libc::c_int,
    want_pidfd: bool,
    arg: &T,
    child: fn(&T) -> !,
    pipes: ControlPipes,
    cgroup: Option<BorrowedFd<'_>>,
    steps: &mut S,
) -> Result<SharedSpawn<S::Error>, SpawnFailure> {
    let mut stack = Stack::take().map_err(SpawnFailure::Stack)?;
    let start = ChildStart { arg, child };
    let request = Request { flags, want_pidfd, cgroup };
    let cloned = clone_with_blocked_signals(&request, &mut stack, &start).map_err(SpawnFailure::Clone)?;
    let (pid, pidfd) = (cloned.pid, cloned.pidfd);
    drop(pipes.report_write);
    drop(pipes.child_only);
    let reaper = KillUnlessDone(pid);
    let mut prepared = steps.before_release(pid, cloned.in_cgroup);
    if prepared.is_ok() {
        send_go(&pipes.go_write).map_err(SpawnFailure::Control)?;
        if steps.second_release() {
            prepared = steps.while_running(pid);
            if prepared.is_ok() {
                send_go(&pipes.go_write).map_err(SpawnFailure::Control)?;
            }
        }
    }
    let mut report = Vec::new();
    if prepared.is_ok() && steps.handoff_len() > 0 {
        report =
            super::fd::read_up_to(pipes.report_read.as_fd(), steps.handoff_len()).map_err(SpawnFailure::Control)?;
        match steps.take_handoff(pidfd.as_ref().map(|fd| fd.as_fd()), &report) {
            Ok(true) => {
                report.clear();
                send_go(&pipes.go_write).map_err(SpawnFailure::Control)?;
            }
            Ok(false) => {}
            Err(e) => prepared = Err(e),
        }
    }
    if prepared.is_err() {
        // The child waits on `go`, and dropping our end is not EOF while another spawn's child,
        // cloned meanwhile, still holds a copy (close-on-exec only): two spawns failing at once
        // would wait on each other for ever. Its record would say nothing `prepared` does not.
        let _ = kill(pid, Signal::SIGKILL);
    }
    drop(pipes.go_write);
    report.extend(super::fd::read_to_eof(pipes.report_read.as_fd()).map_err(SpawnFailure::Control)?);
    std::mem::forget(reaper);
    stack.give_back(); // the child no longer runs on it: the report pipe is at EOF
    Ok(SharedSpawn { pid, pidfd, prepared, report })
}

fn send_go(go: &OwnedFd) -> io::Result<()> {
    loop {
        match nix::unistd::write(go, &[1]) {
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => continue,
            // EPIPE: the child already died (our caller keeps a read end open, so this is a
            // safety net); its report or exit status will say why.
            Err(Errno::EPIPE) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Kills and reaps the child if the parent unwinds or fails before the child is done with our
/// memory, so the stack is never freed under a running child.
struct KillUnlessDone(Pid);

impl Drop for KillUnlessDone {
    fn drop(&mut self) {
        let _ = kill(self.0, Signal::SIGKILL);
        let _ = waitpid(self.0, None);
    }
}

/// What to clone.
struct Request<'a> {
    flags: libc::c_int,
    want_pidfd: bool,
    cgroup: Option<BorrowedFd<'a>>,
}

struct Cloned {
    pid: Pid,
    pidfd: Option<OwnedFd>,
    /// The child was born in the requested cgroup.
    in_cgroup: bool,
}

fn clone_with_blocked_signals<T: Sync>(
    req: &Request<'_>,
    stack: &mut Stack,
    start: &ChildStart<'_, T>,
) -> io::Result<Cloned> {
    let mut old = SigSet::empty();
    nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::all()), Some(&mut old))?;
    let result = clone_best(req, stack, start);
    nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None)?;
    result
}

/// clone3 into the cgroup; on kernels without it (ENOSYS before 5.3, E2BIG for the cgroup
/// field before 5.7) clone3 without the cgroup, then the legacy clone.
fn clone_best<T: Sync>(req: &Request<'_>, stack: &mut Stack, start: &ChildStart<'_, T>) -> io::Result<Cloned> {
    let too_old = |e: &io::Error| matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::E2BIG));
    if let Some(cgroup) = req.cgroup {
        match clone3(req, Some(cgroup), stack, start) {
            Err(e) if too_old(&e) => {}
            other => return other,
        }
    }
    match clone3(req, None, stack, start) {
        Err(e) if too_old(&e) => legacy_clone(req, stack, start),
        other => other,
    }
}

fn clone3<T: Sync>(
    req: &Request<'_>,
    cgroup: Option<BorrowedFd<'_>>,
    stack: &mut Stack,
    start: &ChildStart<'_, T>,
) -> io::Result<Cloned> {
    let mut pidfd: libc::c_int = -1;
    let mut flags = req.flags as u64 | libc::CLONE_VM as u64;
    if req.want_pidfd {
        flags |= libc::CLONE_PIDFD as u64;
    }
    if cgroup.is_some() {
        flags |= CLONE_INTO_CGROUP;
    }
    let args = CloneArgs {
        flags,
        pidfd: &mut pidfd as *mut libc::c_int as u64,
        exit_signal: libc::SIGCHLD as u64,
        stack: stack.base as u64,
        stack_size: stack.len as u64,
        cgroup: cgroup.map_or(0, |fd| fd.as_raw_fd() as u64),
        ..CloneArgs::default()
    };
    let arg = start as *const ChildStart<'_, T> as *mut c_void;
    // SAFETY: `args` describes the whole of our stack mapping (its guard page included, which
    // stays PROT_NONE below the usable part); `entry::<T>` and `arg` follow rule 2 above.
    let ret = unsafe { clone3_raw(&args, entry::<T>, arg) };
    let pid = raw::check(ret).map_err(|errno| io::Error::from_raw_os_error(errno as i32))?;
    Ok(Cloned {
        pid: Pid::from_raw(pid as i32),
        pidfd: owned_pidfd(req.want_pidfd, pidfd),
        in_cgroup: cgroup.is_some(),
    })
}

fn owned_pidfd(wanted: bool, fd: libc::c_int) -> Option<OwnedFd> {
    // SAFETY: the kernel just created this descriptor for us and nothing else owns it.
    (wanted && fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The clone(2) of kernels before 5.3, through glibc's stack-switching wrapper.
fn legacy_clone<T: Sync>(req: &Request<'_>, stack: &mut Stack, start: &ChildStart<'_, T>) -> io::Result<Cloned> {
    let mut result = legacy_clone_once(req.flags, req.want_pidfd, stack, start);
    if req.want_pidfd && matches!(&result, Err(e) if e.raw_os_error() == Some(libc::EINVAL)) {
        // Kernels before 5.2 have no CLONE_PIDFD; the child is then tracked by pid alone.
        result = legacy_clone_once(req.flags, false, stack, start);
    }
    result
}

fn legacy_clone_once<T: Sync>(
    flags: libc::c_int,
    want_pidfd: bool,
    stack: &mut Stack,
    start: &ChildStart<'_, T>,
) -> io::Result<Cloned> {
    let mut pidfd: libc::c_int = -1;
    let all_flags = flags | libc::CLONE_VM | libc::SIGCHLD | if want_pidfd { libc::CLONE_PIDFD } else { 0 };
    let arg = start as *const ChildStart<'_, T> as *mut c_void;
    // SAFETY: `stack.top()` is the top of a live mapping we own that outlives the child's use
    // of it (rule 2 above); `entry::<T>` matches the callback type; `arg` points at `start`,
    // which lives in our caller's frame until the report pipe is at EOF. With CLONE_PIDFD the
    // kernel writes an int to `&mut pidfd`.
    let pid = unsafe { libc::clone(entry::<T>, stack.top(), all_flags, arg, &mut pidfd as *mut libc::c_int) };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Cloned { pid: Pid::from_raw(pid), pidfd: owned_pidfd(want_pidfd, pidfd), in_cgroup: false })
}

extern "C" fn entry<T: Sync>(arg: *mut c_void) -> libc::c_int {
    // SAFETY: `arg` is the `ChildStart<T>` passed by `clone3` or `legacy_clone`, alive until
    // we exec or exit.
    let start = unsafe { &*(arg as *const ChildStart<'_, T>) };
    (start.child)(start.arg)
}

#[cfg(test)]
#[path = "vmclone_tests.rs"]
mod tests;
