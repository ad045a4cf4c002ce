//! The holder's watch (**its own program**): a pooled sandbox whose command runs beside it, as
//! the caller's child, is held open by a waiter that never gets a command. At fill time the
//! library sends that waiter the command's waiter's pidfd instead (a header of `MAGIC`, no
//! body, that one descriptor). The holder acknowledges with one byte (its pid travels with
//! it, as the socket's credentials) and then waits until that process has exited, or the
//! socket closes (the pool gone), and exits: its init, which has it as its program, exits
//! after it, and the kernel ends everything the command left in the sandbox. So the sandbox
//! ends at the command's exit, and the caller's `wait` kills nothing.

use crate::sys::{self, nr2};

pub const MAGIC: u32 = 0x15b0_3a7c;
const POLLIN: i16 = 1;
const EINTR: isize = -4;

/// `struct pollfd`.
#[repr(C)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}

pub fn serve(sock: usize, pidfd: i32) -> ! {
    let mut keep = [sock as i32, pidfd];
    keep.sort_unstable();
    crate::wait::close_gaps(&keep);
    if sys::call(sys::nr::WRITE, [sock, b"w".as_ptr() as usize, 1, 0, 0, 0]) != 1 {
        sys::exit(0); // the pool is gone, or wants no watch
    }
    let mut fds = [PollFd { fd: pidfd, events: POLLIN, revents: 0 }, PollFd { fd: sock as i32, events: POLLIN, revents: 0 }];
    // The pidfd is readable once the command's process has exited; the socket, once the pool
    // closes its end. Either way the sandbox is done.
    while sys::call(nr2::PPOLL, [fds.as_mut_ptr() as usize, fds.len(), 0, 0, 0, 0]) == EINTR {}
    sys::exit(0)
}
