//! isobox's own small program (**its own program**, compiled by `build.rs` into a static
//! executable that the library runs from a sealed memfd; not a module of the library), in three
//! roles chosen by its name (`argv[0]`):
//!
//! - `isobox-init`, pid 1 of a sandbox's pid namespace (`init.rs`);
//! - `isobox-hold`, pid 1 of a pooled sandbox whose command runs beside it, holding it until
//!   that command has exited (`hold.rs`);
//! - `isobox-wait`, a pooled sandbox's program until the command arrives (`wait.rs`), or, in
//!   a sandbox without an init, holding it as `isobox-hold` does (`watch.rs`).
//!
//! As the init: the sandbox's first process clones the program, then executes this, so that
//! pid 1 gets an address space of its own instead of sharing the caller's. It:
//! - runs under a filter of its own that allows only the calls below (a program that kept
//!   CAP_SYS_PTRACE could otherwise make it, unfiltered, run any call);
//! - forwards every signal it receives to the program (all are blocked and taken with
//!   `rt_sigtimedwait`; the kernel delivers to pid 1 only signals it does not ignore);
//! - reaps every child, the orphans the namespace hands it included;
//! - once the program has exited, writes its wait status and resource use (4 + 144 bytes,
//!   native endian) on the status descriptor and exits with the program's code (128 +
//!   signal if it was killed), so the parent reports the program's own end.
//!
//! Arguments: `isobox-init <program pid> <status fd> <hand-over fd>` (closed once the init
//! is non-dumpable and filtered: the program waits for that EOF), `isobox-hold <socket fd>
//! <status fd>`,
//! `isobox-wait <socket fd>`. No allocation, no libc: raw system calls only.
//!
//! # Safety
//! Every `unsafe` block is a raw system call on pointers to this program's own stack, or the
//! entry point reading the stack the kernel laid out.
#![no_std]
#![no_main]

use core::arch::global_asm;
use core::panic::PanicInfo;

mod buf;
mod hold;
mod init;
mod mem;
mod sys;
mod wait;
mod watch;

const PR_SET_DUMPABLE: usize = 4;
const PR_SET_NAME: usize = 15;

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
    if argc < 2 {
        sys::exit(127);
    }
    // SAFETY: argv[0] and argv[1] exist (argc >= 2) and are NUL-terminated.
    let (name, first) = unsafe { (*argv, *argv.add(1)) };
    // SAFETY: NUL-terminated (above).
    if unsafe { is(name, b"isobox-wait") } {
        // SAFETY: NUL-terminated (above).
        wait::serve(unsafe { number(first) })
    }
    if argc < 3 {
        sys::exit(127);
    }
    // SAFETY: argv[2] exists (argc >= 3) and is NUL-terminated.
    let (first, status_fd) = unsafe { (number(first), number(*argv.add(2))) };
    // Not ptraceable by the program (same ids): it must not run calls through us, nor hold
    // us (a holder) in a trace stop. Refused only by a filter of the caller's: then no init.
    if sys::call(sys::nr::PRCTL, [PR_SET_DUMPABLE, 0, 0, 0, 0, 0]) != 0 {
        sys::exit(127);
    }
    // Named for `ps` (from a memfd the kernel would call it "memfd:isobox-in").
    sys::call(sys::nr::PRCTL, [PR_SET_NAME, b"isobox-init\0".as_ptr() as usize, 0, 0, 0, 0]);
    sys::block_all_signals();
    // SAFETY: NUL-terminated (above).
    if unsafe { is(name, b"isobox-hold") } {
        hold::serve(first, status_fd)
    }
    sys::restrict_to(&[
        sys::nr::WAIT4,
        sys::nr::KILL,
        sys::nr::RT_SIGTIMEDWAIT,
        sys::nr::RT_SIGPROCMASK,
        sys::nr::WRITE,
        sys::nr::CLOSE,
        sys::nr::EXIT_GROUP,
        sys::filter::RESTART_SYSCALL,
    ]);
    // Now the program may go on (it reads the hand-over pipe to EOF): this is not dumpable
    // and is filtered before the program's own code runs beside it.
    // SAFETY: argv[3] exists (argc >= 4) and is NUL-terminated.
    if argc >= 4 && sys::call(sys::nr::CLOSE, [unsafe { number(*argv.add(3)) }, 0, 0, 0, 0, 0]) != 0 {
        sys::exit(127); // the program would wait forever; the init's exit closes it
    }
    init::serve(first as isize, status_fd)
}

/// Whether the NUL-terminated `s` is `word`.
///
/// # Safety
/// `s` points to a NUL-terminated string.
unsafe fn is(s: *const u8, word: &[u8]) -> bool {
    for (i, want) in word.iter().enumerate() {
        // SAFETY: every byte before this one matched `word`, none was the NUL.
        if unsafe { *s.add(i) } != *want {
            return false;
        }
    }
    // SAFETY: as above.
    unsafe { *s.add(word.len()) == 0 }
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

#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    sys::exit(127)
}
