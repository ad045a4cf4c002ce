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
        let pid = sys::call(sys::nr::WAIT4, [usize::MAX, &mut status as *mut i32 as usize, WNOHANG | WALL, 0, 0, 0]);
        if pid == program {
            finish(status, status_fd);
        }
        if pid <= 0 || pid == ECHILD {
            return;
        }
    }
}

/// Reports the program's status and exits with its code.
fn finish(status: i32, status_fd: usize) -> ! {
    let bytes = status.to_ne_bytes();
    sys::call(sys::nr::WRITE, [status_fd, bytes.as_ptr() as usize, bytes.len(), 0, 0, 0]);
    let (signal, code) = (status & 0x7f, (status >> 8) & 0xff);
    sys::exit(if signal == 0 { code } else { 128 + signal })
}

