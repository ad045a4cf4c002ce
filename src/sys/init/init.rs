//! The init's loop: forward signals to the program, reap every child, and end with the
//! program (see `main.rs`).

use crate::sys;

const SIGCHLD: isize = 17;
const WNOHANG: usize = 1;
const WALL: usize = 0x4000_0000;
const ECHILD: isize = -10;
const EINTR: isize = -4;

pub fn serve(program: isize, status_fd: usize) -> ! {
    loop {
        reap_all(program, status_fd);
        match sys::wait_signal() {
            sig if sig == SIGCHLD || sig == EINTR => {}
            sig if sig > 0 => {
                sys::call(sys::nr::KILL, [program as usize, sig as usize, 0, 0, 0, 0]);
            }
            _ => {}
        }
    }
}

/// Reaps every child that has exited; ends when the program is one of them.
fn reap_all(program: isize, status_fd: usize) {
    loop {
        let mut status: i32 = 0;
        let mut usage = [0i64; 18]; // struct rusage
        let (status_at, usage_at) = (&mut status as *mut i32 as usize, usage.as_mut_ptr() as usize);
        let pid = sys::call(sys::nr::WAIT4, [usize::MAX, status_at, WNOHANG | WALL, usage_at, 0, 0]);
        if pid == program {
            finish(status, &usage, status_fd);
        }
        if pid <= 0 || pid == ECHILD {
            return;
        }
    }
}

/// Reports the program's status and resource use (4 + 144 bytes, one write: the parent may
/// take it as the sandbox's end) and exits with its code.
fn finish(status: i32, usage: &[i64; 18], status_fd: usize) -> ! {
    let mut report = [0u8; 4 + 144];
    report[..4].copy_from_slice(&status.to_ne_bytes());
    for (i, word) in usage.iter().enumerate() {
        report[4 + i * 8..12 + i * 8].copy_from_slice(&word.to_ne_bytes());
    }
    sys::call(sys::nr::WRITE, [status_fd, report.as_ptr() as usize, report.len(), 0, 0, 0]);
    let (signal, code) = (status & 0x7f, (status >> 8) & 0xff);
    sys::exit(if signal == 0 { code } else { 128 + signal })
}
