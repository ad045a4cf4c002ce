//! isobox's init: pid 1 of a sandbox's pid namespace, once the program runs (**its own
//! program**, compiled by `build.rs` into a small static executable that the library runs
//! from a sealed memfd; not a module of the library).
//!
//! The sandbox's first process clones the program, then executes this, so that pid 1 gets an
//! address space of its own instead of sharing the caller's. It:
//! - forwards every signal it receives to the program (all are blocked and taken with
//!   `rt_sigtimedwait`; the kernel delivers to pid 1 only signals it does not ignore);
//! - reaps every child, the orphans the namespace hands it included;
//! - once the program has exited, writes its wait status (4 bytes, native endian) on the
//!   status descriptor and exits with the program's code (128 + signal if it was killed), so
//!   the parent reports the program's own status.
//!
//! Arguments: `isobox-init <program pid> <status fd>`. No allocation, no libc: raw system
//! calls only.
//!
//! # Safety
//! Every `unsafe` block is a raw system call on pointers to this program's own stack, or the
//! entry point reading the stack the kernel laid out.
#![no_std]
#![no_main]

use core::arch::global_asm;
use core::panic::PanicInfo;

mod sys;

const SIGCHLD: usize = 17;
const WNOHANG: usize = 1;
const WALL: usize = 0x4000_0000;
const PR_SET_DUMPABLE: usize = 4;
const PR_SET_NAME: usize = 15;
const ECHILD: isize = -10;
const EINTR: isize = -4;

#[cfg(target_arch = "x86_64")]
global_asm!(
    ".globl _start",
    "_start:",
    "xor ebp, ebp",
    "mov rdi, rsp", // argc, then argv, lie at the stack pointer
    "and rsp, -16",
    "call {main}",
    "ud2",
    main = sym start,
);

#[cfg(target_arch = "aarch64")]
global_asm!(
    ".globl _start",
    "_start:",
    "mov x29, xzr",
    "mov x0, sp",
    "bl {main}",
    "brk #0",
    main = sym start,
);

/// `stack` is where the kernel put argc, followed by the argv pointers.
extern "C" fn start(stack: *const usize) -> ! {
    // SAFETY: the kernel's initial stack holds argc, then argc pointers to NUL-terminated
    // strings, then a null pointer.
    let (argc, argv) = unsafe { (*stack, stack.add(1) as *const *const u8) };
    if argc < 3 {
        sys::exit(127);
    }
    // SAFETY: argv[1] and argv[2] exist (argc >= 3) and are NUL-terminated.
    let (program, status_fd) = unsafe { (number(*argv.add(1)), number(*argv.add(2))) };
    // Not ptraceable by the program (same ids): it must not run calls through us.
    sys::call(sys::nr::PRCTL, [PR_SET_DUMPABLE, 0, 0, 0, 0, 0]);
    // Named for `ps` (from a memfd the kernel would call it "memfd:isobox-in").
    sys::call(sys::nr::PRCTL, [PR_SET_NAME, b"isobox-init\0".as_ptr() as usize, 0, 0, 0, 0]);
    sys::block_all_signals();
    serve(program as isize, status_fd)
}

/// Parses a decimal number (0 for anything else).
///
/// # Safety
/// `s` points to a NUL-terminated string.
unsafe fn number(mut s: *const u8) -> usize {
    let mut n: usize = 0;
    // SAFETY: reads up to the NUL the caller promises.
    while let b @ b'0'..=b'9' = unsafe { *s } {
        n = n.wrapping_mul(10).wrapping_add((b - b'0') as usize);
        // SAFETY: not past the NUL yet.
        s = unsafe { s.add(1) };
    }
    n
}

fn serve(program: isize, status_fd: usize) -> ! {
    loop {
        reap_all(program, status_fd);
        match sys::wait_signal() {
            sig if sig == SIGCHLD as isize || sig == EINTR => {}
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

#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    sys::exit(127)
}
