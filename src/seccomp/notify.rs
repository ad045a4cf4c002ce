//! Answering the program's notified system calls (public; **parent**): the listener of a
//! filter with [`Seccomp::notify`](super::spec::Seccomp::notify) rules, taken from the child
//! before exec.
//!
//! **`Response::Continue` is not a security decision.** It lets the kernel run the call as
//! the program made it, and the program (another of its threads) can change what a pointer
//! argument points at between your look and the kernel's: use it to let a call through that
//! you would allow whatever its memory says, never to allow a call because of what its memory
//! said. To act on a pointer argument (read the target's memory through `/proc/<pid>/mem`),
//! check [`Notifier::id_valid`] after reading it: the pid may have been reused otherwise.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;

use crate::sys::notify as sys;

/// The listener of a sandbox's seccomp filter: each notified system call of its program waits
/// until answered here. `Send` and `Sync`: one thread may receive while others respond.
/// Dropping it (with the last copy of the listener) makes every waiting and later notified
/// call fail with ENOSYS.
#[derive(Debug)]
pub struct Notifier {
    listener: OwnedFd,
    /// One receiver at a time: between the poll and the receive another thread could take the
    /// notification and leave this one blocked in the kernel.
    receiving: std::sync::Mutex<()>,
}

/// One system call of the program, waiting for an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Notification {
    /// What to answer with [`Notifier::respond`].
    pub id: u64,
    /// The calling thread's id, as the parent sees it (0 if it is in no pid namespace the
    /// parent can see).
    pub pid: u32,
    /// The system call's number (`libc::SYS_*`).
    pub nr: i64,
    /// Its AUDIT_ARCH (always the build target's: the filter kills foreign ones).
    pub arch: u32,
    /// Where the call was made.
    pub instruction_pointer: u64,
    /// Its six arguments, raw.
    pub args: [u64; 6],
}

/// How to answer a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Response {
    /// The call fails with this errno (`-1` and errno for the program).
    Errno(Errno),
    /// The kernel runs the call as made (Linux 5.5). Not a security decision: see the module
    /// docs.
    Continue,
    /// The call returns this value without running.
    Value(i64),
}

/// A notifier operation that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// Waiting for or receiving a notification.
    #[error("receiving a seccomp notification: {0}")]
    Recv(Errno),
    /// Answering notification `id`.
    #[error("answering seccomp notification {id}: {errno}{}", respond_hint(*errno))]
    Respond {
        /// The notification.
        id: u64,
        /// What the kernel said.
        errno: Errno,
    },
    /// Checking notification `id`.
    #[error("checking seccomp notification {id}: {errno}")]
    IdValid {
        /// The notification.
        id: u64,
        /// What the kernel said.
        errno: Errno,
    },
    /// `Response::Errno` with errno 0, which would fake a success.
    #[error("answering seccomp notification {id}: an errno response needs a non-zero errno")]
    ZeroErrno {
        /// The notification.
        id: u64,
    },
}

fn respond_hint(errno: Errno) -> &'static str {
    match errno {
        Errno::ENOENT => " (the call is no longer waiting: its thread was interrupted by a signal or died)",
        Errno::EINVAL => " (Response::Continue needs Linux 5.5)",
        _ => "",
    }
}

impl Notifier {
    pub(crate) fn new(listener: OwnedFd) -> Notifier {
        Notifier { listener, receiving: std::sync::Mutex::new(()) }
    }

    /// Waits for the next notified system call. `Ok(None)` once no process of the sandbox
    /// uses the filter any more (they all exited), so `while let Some(n) = notifier.recv()?`
    /// ends with the sandbox. A call whose thread is interrupted before it is received is
    /// skipped.
    pub fn recv(&self) -> Result<Option<Notification>, NotifyError> {
        let _one_at_a_time = self.receiving.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        loop {
            if !sys::wait_pending(self.listener.as_fd()).map_err(NotifyError::Recv)? {
                return Ok(None);
            }
            match sys::recv(self.listener.as_fd()) {
                // ENOENT: the call went away between poll and receive.
                Err(Errno::ENOENT | Errno::EINTR) => continue,
                Err(e) => return Err(NotifyError::Recv(e)),
                Ok(n) => {
                    return Ok(Some(Notification {
                        id: n.id,
                        pid: n.pid,
                        nr: i64::from(n.data.nr),
                        arch: n.data.arch,
                        instruction_pointer: n.data.instruction_pointer,
                        args: n.data.args,
                    }))
                }
            }
        }
    }

    /// Answers notification `id`.
    pub fn respond(&self, id: u64, response: Response) -> Result<(), NotifyError> {
        let (val, error, flags) = match response {
            Response::Errno(errno) if errno as i32 == 0 => return Err(NotifyError::ZeroErrno { id }),
            Response::Errno(errno) => (0, -(errno as i32), 0),
            Response::Continue => (0, 0, libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32),
            Response::Value(value) => (value, 0, 0),
        };
        sys::send(self.listener.as_fd(), id, val, error, flags).map_err(|errno| NotifyError::Respond { id, errno })
    }

    /// Whether notification `id` is still waiting. Check it **after** reading the target's
    /// memory: if it is still valid, the pid you read through was still the caller's.
    pub fn id_valid(&self, id: u64) -> Result<bool, NotifyError> {
        sys::id_valid(self.listener.as_fd(), id).map_err(|errno| NotifyError::IdValid { id, errno })
    }
}

impl AsFd for Notifier {
    /// The listener, to poll it from an event loop (readable: a notification is pending;
    /// POLLHUP: the sandbox is gone).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.listener.as_fd()
    }
}
