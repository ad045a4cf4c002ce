//! Capability system calls for the **child**: prctl with all its arguments and capset.
//!
//! Like [`child`](super::child), every function here is async-signal-safe: it does not
//! allocate, lock, format or panic, and returns the kernel's errno without touching `errno`.
//!
//! # Safety
//! No `unsafe` here: the calls go through `child::call`. [`prctl`] passes integers only.
//! [`capset`] passes pointers to a header on its own stack and to a two-element array
//! borrowed for the call, laid out as the kernel's `struct __user_cap_header_struct` and
//! `struct __user_cap_data_struct[2]` (version 3, the one that takes two elements); the
//! kernel may write the header back (its preferred version), so the header is passed as a
//! mutable pointer.

use nix::errno::Errno;

use super::child::call;

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit capability sets, as two 32-bit words.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// The kernel's `struct __user_cap_header_struct`.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

/// One word of the three capability sets: the kernel's `struct __user_cap_data_struct`.
/// Element 0 holds capabilities 0–31, element 1 holds 32–63.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapData {
    /// Effective capabilities of this word.
    pub effective: u32,
    /// Permitted capabilities of this word.
    pub permitted: u32,
    /// Inheritable capabilities of this word.
    pub inheritable: u32,
}

/// prctl(2) with its four arguments after `option`. Async-signal-safe: does not allocate.
pub fn prctl(option: i32, args: [usize; 4]) -> Result<(), Errno> {
    let [a2, a3, a4, a5] = args;
    // Every argument is an integer; the options isobox uses read no memory.
    call(libc::SYS_prctl, [option as usize, a2, a3, a4, a5, 0]).map(drop)
}

/// capset(2) of the calling thread's effective, permitted and inheritable sets.
/// Async-signal-safe: does not allocate.
pub fn capset(data: &[CapData; 2]) -> Result<(), Errno> {
    let mut header = CapHeader { version: CAPABILITY_VERSION_3, pid: 0 };
    let args = [&mut header as *mut CapHeader as usize, data.as_ptr() as usize, 0, 0, 0, 0];
    // `header` lives on this stack frame for the call and may be written; `data` is a
    // borrowed `[CapData; 2]`, the two repr(C) elements version 3 reads.
    call(libc::SYS_capset, args).map(drop)
}
