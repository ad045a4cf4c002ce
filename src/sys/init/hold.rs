//! The init as a pooled sandbox's holder (**its own program**), `isobox-hold <socket fd>
//! <status fd>`: for a command that runs beside the sandbox's first process (a pool's, see
//! `watch.rs`), the first process executes this instead of cloning a program, so the sandbox
//! costs one process less. It takes the command's pidfd over the pool's socket, acknowledges,
//! and exits once that process has exited or the pool has closed the socket; meanwhile it
//! reaps the orphans the command leaves it. Non-dumpable and under a filter of its own, as the
//! init: the command, with the same ids, can neither trace nor stop it (a pid namespace's init
//! takes no signal from inside that it has no handler for), so nothing inside can keep the
//! sandbox past the command. The status descriptor stays open until it exits, and nothing is
//! written on it: the pool kills and reaps a holder, and the status read after that kill
//! finds EOF.

use crate::sys::{self, nr, nr2};
use crate::wait::{self, HEADER_LEN, MAX_FDS};
use crate::watch::{self, PollFd, EINTR};

const SIGCHLD: u32 = 17;
const SFD_NONBLOCK: usize = 0o4000;
const SFD_CLOEXEC: usize = 0o2_000_000;
const WNOHANG: usize = 1;
const WALL: usize = 0x4000_0000;

pub fn serve(sock: usize, status_fd: usize) -> ! {
    // SIGCHLD stays blocked (`main` blocked every signal): it is read from here.
    let mask: u64 = 1 << (SIGCHLD - 1);
    let flags = SFD_NONBLOCK | SFD_CLOEXEC;
    let sigfd = sys::call(nr2::SIGNALFD4, [usize::MAX, &mask as *const u64 as usize, 8, flags, 0, 0]);
    if sigfd < 0 {
        sys::exit(127);
    }
    let mut keep = [sock as i32, status_fd as i32, sigfd as i32];
    keep.sort_unstable();
    wait::close_gaps(&keep);
    sys::restrict_to(&[
        nr2::RECVMSG,
        nr::WRITE,
        nr2::PPOLL,
        nr2::READ,
        nr::WAIT4,
        nr::EXIT_GROUP,
        sys::filter::RESTART_SYSCALL,
    ]);
    let pidfd = take_watch(sock);
    watch::acknowledge(sock);
    let mut fds = [PollFd::readable(pidfd), PollFd::readable(sock as i32), PollFd::readable(sigfd as i32)];
    loop {
        reap_orphans();
        let r = sys::call(nr2::PPOLL, [fds.as_mut_ptr() as usize, fds.len(), 0, 0, 0, 0]);
        if r == EINTR {
            continue;
        }
        // The command has exited, or the pool is gone (or the poll failed): the sandbox ends.
        if r < 0 || fds[0].revents != 0 || fds[1].revents != 0 {
            sys::exit(0);
        }
        drain(sigfd as usize);
    }
}

/// The command's pidfd, from the pool's watch header. Anything else ends the sandbox
/// (EOF first: the pool is gone; `wait::receive` exits then).
fn take_watch(sock: usize) -> i32 {
    let mut header = [0u8; HEADER_LEN];
    let mut fds = [-1i32; MAX_FDS];
    let (received, early) = wait::receive(sock, &mut header, &mut fds, &mut []);
    if !watch::is_watch(&header, received, early) {
        sys::exit(127);
    }
    fds[0]
}

/// Reaps every child that has exited: the orphans of the command, handed to pid 1.
fn reap_orphans() {
    loop {
        let mut status: i32 = 0;
        let r = sys::call(nr::WAIT4, [usize::MAX, &mut status as *mut i32 as usize, WNOHANG | WALL, 0, 0, 0]);
        if r <= 0 {
            return;
        }
    }
}

/// Empties the signalfd (non-blocking), so the next poll sleeps until the next SIGCHLD.
fn drain(sigfd: usize) {
    let mut info = [0u64; 16 * 4]; // four signalfd_siginfo of 128 bytes
    while sys::call(nr2::READ, [sigfd, info.as_mut_ptr() as usize, core::mem::size_of_val(&info), 0, 0, 0]) > 0 {}
}
