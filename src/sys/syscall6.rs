//! The system-call instruction itself, for x86_64 and aarch64: core only (no libc, no nix),
//! so that both the library's child path (`raw.rs`) and isobox's own no_std program
//! (`sys/init/`, which includes this file by path) make their calls through the same code.
//!
//! # Safety
//! `syscall6` is unsafe because the kernel may read or write through any argument that is a
//! pointer; its callers pass only pointers valid for the call's use.

/// Invokes system call `nr` with up to six arguments. Async-signal-safe: does not allocate.
///
/// # Safety
/// Every argument the system call treats as a pointer must be valid for that use.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub unsafe fn syscall6(nr: i64, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the x86_64 syscall ABI: number in rax, args in rdi rsi rdx r10 r8 r9; the
    // instruction clobbers rcx and r11. Pointer validity is the caller's contract.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
            in("r10") a[3], in("r8") a[4], in("r9") a[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// Invokes system call `nr` with up to six arguments. Async-signal-safe: does not allocate.
///
/// # Safety
/// Every argument the system call treats as a pointer must be valid for that use.
#[cfg(target_arch = "aarch64")]
#[inline(always)]
pub unsafe fn syscall6(nr: i64, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the aarch64 syscall ABI: number in x8, args in x0-x5, result in x0.
    unsafe {
        core::arch::asm!(
            "svc 0",
            in("x8") nr,
            inlateout("x0") a[0] as isize => ret,
            in("x1") a[1], in("x2") a[2], in("x3") a[3], in("x4") a[4], in("x5") a[5],
            options(nostack),
        );
    }
    ret
}
