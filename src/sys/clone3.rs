//! clone3(2) onto a stack of our own, for the **parent**; the child half runs `entry(arg)`.
//!
//! glibc exports no clone3 wrapper that switches stacks, so the system call and the child's
//! first instructions are written here: the child returns from the system call on the new
//! stack with no frame to return to, so it must call its entry point from the same asm block
//! and exit if that ever returns.
//!
//! # Safety
//! `clone3_raw` is unsafe: `args` must describe a valid stack, and `entry(arg)` must be safe
//! to run on it in memory shared with the parent (see `vmclone`).

use std::ffi::c_void;

/// The kernel's `struct clone_args` (Linux 5.7 layout, with `cgroup`).
#[repr(C)]
#[derive(Debug, Default)]
pub struct CloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
    pub set_tid: u64,
    pub set_tid_size: u64,
    pub cgroup: u64,
}

pub type Entry = extern "C" fn(*mut c_void) -> libc::c_int;

/// CLONE_INTO_CGROUP (linux/sched.h), which libc does not define on every target.
pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Calls clone3; in the child, calls `entry(arg)` and exits with its result. Returns the
/// kernel's result in the parent: a pid, or `-errno`.
///
/// # Safety
/// See the module documentation.
#[cfg(target_arch = "x86_64")]
pub unsafe fn clone3_raw(args: &CloneArgs, entry: Entry, arg: *mut c_void) -> isize {
    let ret: isize;
    // SAFETY: clone3 reads `args` (valid for its size). In the child, rsp is the top of the
    // caller's stack (16-byte aligned), rbp is cleared to end frame chains, and `entry(arg)` is
    // called; the child never comes back into Rust code, so the registers it changes are not
    // observed. In the parent only rax, rcx and r11 change.
    unsafe {
        core::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "xor ebp, ebp",
            "mov rdi, r13",
            "call r12",
            "mov edi, eax",
            "mov eax, {exit_group}",
            "syscall",
            "ud2",
            "2:",
            exit_group = const libc::SYS_exit_group,
            inlateout("rax") libc::SYS_clone3 as isize => ret,
            in("rdi") args as *const CloneArgs,
            in("rsi") std::mem::size_of::<CloneArgs>(),
            in("r12") entry,
            in("r13") arg,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// Calls clone3; in the child, calls `entry(arg)` and exits with its result. Returns the
/// kernel's result in the parent: a pid, or `-errno`.
///
/// # Safety
/// See the module documentation.
#[cfg(target_arch = "aarch64")]
pub unsafe fn clone3_raw(args: &CloneArgs, entry: Entry, arg: *mut c_void) -> isize {
    let ret: isize;
    // SAFETY: as for x86_64: the child starts on the new stack, clears the frame and link
    // registers, calls `entry(arg)` and exits; the parent sees only x0 change.
    unsafe {
        core::arch::asm!(
            "svc 0",
            "cbnz x0, 2f",
            "mov x29, xzr",
            "mov x30, xzr",
            "mov x0, x10",
            "blr x9",
            "mov x8, {exit_group}",
            "svc 0",
            "brk #0",
            "2:",
            exit_group = const libc::SYS_exit_group,
            in("x8") libc::SYS_clone3,
            inlateout("x0") args as *const CloneArgs as isize => ret,
            in("x1") std::mem::size_of::<CloneArgs>(),
            in("x9") entry,
            in("x10") arg,
            options(nostack),
        );
    }
    ret
}
