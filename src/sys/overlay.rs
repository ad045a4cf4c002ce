//! The calls the **child** makes to mount an overlay root beyond those of `mount_api`: a flag
//! option (`userxattr`, `volatile`), and the filesystem context's creation and mount as two
//! steps, so that a failure says which of them the kernel refused.
//!
//! Async-signal-safe: no allocation, raw system calls that return the kernel's errno.
//!
//! # Safety
//! No `unsafe` here: every call goes through `child::call`, whose contract (integers, or
//! pointers from live references) each function below keeps.

use std::ffi::CStr;
use std::os::fd::RawFd;

use nix::errno::Errno;

use super::child::{call, ptr};

const FSCONFIG_SET_FLAG: usize = 0;
const FSCONFIG_CMD_CREATE: usize = 6;
const FSMOUNT_CLOEXEC: usize = 1;

/// fsconfig(fs, FSCONFIG_SET_FLAG, key, NULL, 0): an option without a value. Async-signal-safe.
pub fn fsconfig_flag(fs: RawFd, key: &CStr) -> Result<(), Errno> {
    call(libc::SYS_fsconfig, [fs as usize, FSCONFIG_SET_FLAG, ptr(key), 0, 0, 0]).map(drop)
}

/// fsconfig(fs, FSCONFIG_CMD_CREATE): the superblock, from the options given so far (for
/// overlayfs: the layers are checked here). Async-signal-safe: does not allocate.
pub fn fsconfig_create(fs: RawFd) -> Result<(), Errno> {
    call(libc::SYS_fsconfig, [fs as usize, FSCONFIG_CMD_CREATE, 0, 0, 0, 0]).map(drop)
}

/// fsmount(fs, FSMOUNT_CLOEXEC, attrs): the created filesystem as a detached mount with the
/// `MOUNT_ATTR_*` bits `attrs`. Async-signal-safe: does not allocate.
pub fn fsmount(fs: RawFd, attrs: u64) -> Result<RawFd, Errno> {
    call(libc::SYS_fsmount, [fs as usize, FSMOUNT_CLOEXEC, attrs as usize, 0, 0, 0]).map(|fd| fd as RawFd)
}
