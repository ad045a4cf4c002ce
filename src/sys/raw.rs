//! Raw system calls that never touch `errno`.
//!
//! Runs in the **child**. The child shares the parent's memory (see `vmclone`), including the
//! thread-local `errno` of the thread that called `spawn`, which keeps running. libc's wrappers
//! write `errno` on failure, so the child would scribble on a variable the parent is using.
//! These wrappers return the kernel's `-errno` directly instead.
//!
//! # Safety
//! `syscall6` is unsafe because the kernel may read or write through any argument that is a
//! pointer; callers in this module pass only pointers derived from live references.

use nix::errno::Errno;

pub use super::syscall6::syscall6;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("isobox's child path has raw system calls for x86_64 and aarch64 only");

/// Turns the kernel's return convention (-4095..=-1 is `-errno`) into a `Result`.
#[inline(always)]
pub fn check(ret: isize) -> Result<usize, Errno> {
    if (-4095..0).contains(&ret) {
        Err(Errno::from_raw(-ret as i32))
    } else {
        Ok(ret as usize)
    }
}
