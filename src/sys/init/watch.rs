//! The holder's watch (**its own program**): a pooled sandbox whose command runs beside it, as
//! the caller's child, is held open by its pid 1: isobox's init in its holding role
//! (`hold.rs`), or, in a sandbox without an init, a waiter that never gets a command (here).
//! At fill time the library sends the holder the pidfd of the waiter that will run the command
//! (a header of `MAGIC`, no body, that one descriptor). The holder acknowledges with one byte
//! (its pid travels with it, as the socket's credentials) and then waits until that process
//! has exited, or the socket closes (the pool gone), and exits: being pid 1, it takes
//! everything the command left in the sandbox with it. So the sandbox ends at the command's
//! exit, and the caller's `wait` kills nothing.

use crate::sys::{self, nr2};

pub const MAGIC: u32 = 0x15b0_3a7c;
pub const POLLIN: i16 = 1;
const PR_SET_DUMPABLE: usize = 4;
pub const EINTR: isize = -4;

/// `struct pollfd`.
#[repr(C)]
pub struct PollFd {
    pub fd: i32,
    pub events: i16,
    pub revents: i16,
}

impl PollFd {
    pub fn readable(fd: i32) -> PollFd {
        PollFd { fd, events: POLLIN, revents: 0 }
    }
}

/// A waiter as the holder: `pidfd` came with the watch header.
pub fn serve(sock: usize, pidfd: i32) -> ! {
    let mut keep = [sock as i32, pidfd];
    keep.sort_unstable();
    crate::wait::close_gaps(&keep);
    // Not ptraceable by the command (same ids), which could otherwise hold it in a trace stop
    // past its own end. Before the acknowledgement, so before the command exists.
    if sys::call(sys::nr::PRCTL, [PR_SET_DUMPABLE, 0, 0, 0, 0, 0]) != 0 {
        sys::exit(127);
    }
    acknowledge(sock);
    let mut fds = [PollFd::readable(pidfd), PollFd::readable(sock as i32)];
    // The pidfd is readable once the command's process has exited; the socket, once the pool
    // closes its end. Either way the sandbox is done.
    while sys::call(nr2::PPOLL, [fds.as_mut_ptr() as usize, fds.len(), 0, 0, 0, 0]) == EINTR {}
    sys::exit(0)
}

/// Whether a received header (with `received` descriptors and `early` body bytes) is the
/// pool's watch message, as `pool/message.rs::watch` writes it: the magic, no body, one
/// descriptor (the command's pidfd). The one check of both holders (`wait.rs`, `hold.rs`).
pub fn is_watch(header: &[u8; crate::wait::HEADER_LEN], received: usize, early: usize) -> bool {
    let word = |i: usize| u32::from_ne_bytes([header[i * 4], header[i * 4 + 1], header[i * 4 + 2], header[i * 4 + 3]]);
    word(0) == MAGIC && word(1) == 0 && word(2) == 1 && received == 1 && early == 0
}

/// Tells the pool the watch is on; exits if the pool is gone.
pub fn acknowledge(sock: usize) {
    if sys::call(sys::nr::WRITE, [sock, b"w".as_ptr() as usize, 1, 0, 0, 0]) != 1 {
        sys::exit(0); // the pool is gone, or wants no watch
    }
}
