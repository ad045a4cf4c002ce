//! Starting the child: a clone that shares the **parent's** memory until the child execs.
//!
//! Like `posix_spawn`, the child is cloned with `CLONE_VM` onto a stack of its own, so the
//! clone copies no page tables and costs the same whatever the parent's size. Unlike
//! `posix_spawn` the parent is not suspended (`CLONE_VFORK`) because it has work to do while
//! the child waits (id maps, cgroup placement). That makes three rules, all enforced here:
//! 1. The child only reads what `arg` borrows and writes to its own stack.
//! 2. This function does not return (and so does not free the stack or let `arg` go) until
//!    the report pipe reaches EOF: the child has exec'd (the pipe is close-on-exec) or died.
//!    A panic in between kills and reaps the child first.
//! 3. All signals are blocked across the clone, so no handler of the parent runs on the
//!    child's stack before the child resets them (see `child::reset_signals`).
//!
//! # Safety
//! The `unsafe` blocks are the clone itself, the stack mapping, and turning the clone
//! argument back into a reference in the child.

use std::ffi::c_void;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

const STACK_SIZE: usize = 256 * 1024;

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

/// The pipe ends [`spawn_shared`] takes over.
#[derive(Debug)]
pub struct ControlPipes {
    /// The parent writes one byte here to release the child; dropping it unsent makes the
    /// child exit.
    pub go_write: OwnedFd,
    pub report_read: OwnedFd,
    /// The parent's copy of the child's write end; closed right after the clone.
    pub report_write: OwnedFd,
}

struct ChildStart<'a, T> {
    arg: &'a T,
    child: fn(&T) -> !,
}

/// Clones a child that runs `child(arg)` with namespace `flags`, runs `prepare(pid)` in the
/// parent while the child waits for the go byte, releases it if `prepare` succeeded, and waits
/// until the child has exec'd or exited. The child must close its copy of `go_write`, read one
/// byte from the go pipe, and exit if it reads EOF. `child` runs in memory shared with every
/// thread of the parent: it must be async-signal-safe (no allocation, locks or unwinding) and
/// make its system calls through [`super::child`], which leaves `errno` alone.
pub fn spawn_shared<T: Sync, E>(
    flags: libc::c_int,
    want_pidfd: bool,
    arg: &T,
    child: fn(&T) -> !,
    pipes: ControlPipes,
    prepare: impl FnOnce(Pid) -> Result<(), E>,
) -> Result<SharedSpawn<E>, SpawnFailure> {
    let mut stack = Stack::new(STACK_SIZE).map_err(SpawnFailure::Stack)?;
    let start = ChildStart { arg, child };
    let (pid, pidfd) =
        clone_with_blocked_signals(flags, want_pidfd, &mut stack, &start).map_err(SpawnFailure::Clone)?;
    drop(pipes.report_write);
    let reaper = KillUnlessDone(pid);
    let prepared = prepare(pid);
    if prepared.is_ok() {
        send_go(&pipes.go_write).map_err(SpawnFailure::Control)?;
    }
    drop(pipes.go_write);
    let report = read_to_eof(&pipes.report_read).map_err(SpawnFailure::Control)?;
    std::mem::forget(reaper);
    drop(stack); // the child no longer runs on it: the report pipe is at EOF
    Ok(SharedSpawn { pid, pidfd, prepared, report })
}

fn send_go(go: &OwnedFd) -> io::Result<()> {
    loop {
        match nix::unistd::write(go, &[1]) {
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => continue,
            // EPIPE: the child already died; its report or exit status will say why.
            Err(Errno::EPIPE) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
}

fn read_to_eof(fd: &OwnedFd) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        match nix::unistd::read(fd.as_raw_fd(), &mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(Errno::EINTR) => continue,
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

fn clone_with_blocked_signals<T: Sync>(
    flags: libc::c_int,
    want_pidfd: bool,
    stack: &mut Stack,
    start: &ChildStart<'_, T>,
) -> io::Result<(Pid, Option<OwnedFd>)> {
    let mut old = SigSet::empty();
    nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::all()), Some(&mut old))?;
    let mut result = raw_clone(flags, want_pidfd, stack, start);
    if want_pidfd && matches!(&result, Err(e) if e.raw_os_error() == Some(libc::EINVAL)) {
        // Kernels before 5.2 have no CLONE_PIDFD; the child is then tracked by pid alone.
        result = raw_clone(flags, false, stack, start);
    }
    nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None)?;
    result
}

fn raw_clone<T: Sync>(
    flags: libc::c_int,
    want_pidfd: bool,
    stack: &mut Stack,
    start: &ChildStart<'_, T>,
) -> io::Result<(Pid, Option<OwnedFd>)> {
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
    // SAFETY: the kernel just created this descriptor for us and nothing else owns it.
    let pidfd = (want_pidfd && pidfd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(pidfd) });
    Ok((Pid::from_raw(pid), pidfd))
}

extern "C" fn entry<T: Sync>(arg: *mut c_void) -> libc::c_int {
    // SAFETY: `arg` is the `ChildStart<T>` passed by `raw_clone`, alive until we exec or exit.
    let start = unsafe { &*(arg as *const ChildStart<'_, T>) };
    (start.child)(start.arg)
}

/// An anonymous mapping for the child's stack, with a guard page at the bottom so an overflow
/// faults instead of writing into the parent's memory.
struct Stack {
    base: *mut c_void,
    len: usize,
}

impl Stack {
    fn new(size: usize) -> io::Result<Stack> {
        let guard = page_size();
        let len = size + guard;
        let prot = libc::PROT_READ | libc::PROT_WRITE;
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK | libc::MAP_NORESERVE;
        // SAFETY: a fresh anonymous mapping; no existing memory is affected.
        let base = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, flags, -1, 0) };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = Stack { base, len };
        // SAFETY: the first page lies inside the mapping just created.
        if unsafe { libc::mprotect(base, guard, libc::PROT_NONE) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(stack)
    }

    fn top(&mut self) -> *mut c_void {
        // SAFETY: one past the end of the mapping, where a downward-growing stack starts.
        unsafe { self.base.cast::<u8>().add(self.len).cast() }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping created in `new`; nothing runs on it any more.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as usize
    } else {
        4096
    }
}
