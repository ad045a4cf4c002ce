//! Arming a command-beside sandbox's holder (**parent**, at fill time): its pid 1 (isobox's
//! init in its holding role, or the waiter of a sandbox without an init) gets the pidfd of
//! the waiter that will run the command, and from then on ends the sandbox, by exiting, as
//! soon as that process has exited (see `src/sys/init/hold.rs` and `watch.rs`). So what the command leaves running ends with it, as in a
//! sandbox whose init has the command as its program, and the caller's `wait` has no kill
//! to send.

use std::io::{self, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::sys::socket::{recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags};
use nix::sys::socket::{UnixAddr, UnixCredentials};

use super::message;

/// Sends the holder (on `holder_sock`) the command process's `pidfd` and waits for its
/// acknowledgement. Returns the holder's host pid, which came with it (the socket's
/// credentials, in this process's pid namespace).
pub(crate) fn arm(holder_sock: BorrowedFd<'_>, pidfd: BorrowedFd<'_>) -> io::Result<u32> {
    let sock = holder_sock.as_raw_fd();
    setsockopt(&holder_sock, sockopt::PassCred, &true)?;
    message::send(holder_sock, &message::watch(pidfd.as_raw_fd()))?;
    let mut ack = [0u8; 1];
    let mut space = nix::cmsg_space!(UnixCredentials);
    let (got, pid) = retrying(|| {
        let mut iov = [IoSliceMut::new(&mut ack)];
        let msg = recvmsg::<UnixAddr>(sock, &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)?;
        let pid = msg.cmsgs()?.find_map(|c| match c {
            ControlMessageOwned::ScmCredentials(cred) => Some(cred.pid()),
            _ => None,
        });
        Ok((msg.bytes, pid))
    })?;
    match (got, pid) {
        (1, Some(pid)) if pid > 0 && ack == *b"w" => Ok(pid as u32),
        (0, _) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the holder exited before it watched")),
        _ => Err(io::Error::new(io::ErrorKind::InvalidData, "the holder's answer was not its acknowledgement")),
    }
}

fn retrying<T>(mut f: impl FnMut() -> nix::Result<T>) -> io::Result<T> {
    loop {
        match f() {
            Err(nix::errno::Errno::EINTR) => {}
            other => return other.map_err(io::Error::from),
        }
    }
}
