//! The seccomp(2) system call for the **child**, errno-free.
//!
//! # Safety
//! No `unsafe` here: the call goes through `child::call`, with a `struct sock_fprog` on the
//! caller's stack whose pointer and length describe a live slice; the kernel only reads (and
//! copies) it.

use std::os::fd::RawFd;

use nix::errno::Errno;

use super::child::call;

/// seccomp(SECCOMP_SET_MODE_FILTER, 0, program): installs `program` as a filter on the calling
/// thread (the child is single-threaded, so no TSYNC). Async-signal-safe: does not allocate.
pub fn set_mode_filter(program: &[libc::sock_filter]) -> Result<(), Errno> {
    install(program, 0).map(drop)
}

/// seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, program): as
/// [`set_mode_filter`], and returns the new listener's descriptor (close-on-exec: the kernel
/// makes it so). Async-signal-safe: does not allocate.
pub fn set_mode_filter_listener(program: &[libc::sock_filter]) -> Result<RawFd, Errno> {
    install(program, libc::SECCOMP_FILTER_FLAG_NEW_LISTENER as usize).map(|fd| fd as RawFd)
}

fn install(program: &[libc::sock_filter], flags: usize) -> Result<usize, Errno> {
    let len = u16::try_from(program.len()).map_err(|_| Errno::EINVAL)?;
    // The kernel reads through `filter` only; the pointer is `*mut` in the C declaration.
    let fprog = libc::sock_fprog { len, filter: program.as_ptr().cast_mut() };
    let args = [libc::SECCOMP_SET_MODE_FILTER as usize, flags, &fprog as *const libc::sock_fprog as usize, 0, 0, 0];
    // `fprog` lives on this stack frame for the whole call and points at `len` valid
    // instructions of `program`; seccomp(2) reads both and writes nothing of ours.
    call(libc::SYS_seccomp, args)
}
