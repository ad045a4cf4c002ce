//! The descriptor-based calls the **child** uses to build its root without leaving it:
//! openat2(2) with `RESOLVE_IN_ROOT`, the `*at` creators, and the new mount API (open_tree,
//! move_mount, fsopen, fsconfig, fsmount, mount_setattr on a descriptor). Linux 5.12 or later.
//!
//! Every function is async-signal-safe: no allocation, raw system calls that return the
//! kernel's errno (see `raw`). Paths and option strings are `&CStr`s the parent prepared.
//!
//! # Safety
//! No `unsafe` here: every call goes through `child::call`, whose contract (integers, or
//! pointers from live references of the right size) each function below keeps.

use std::ffi::CStr;
use std::os::fd::RawFd;

use nix::errno::Errno;

use super::child::{call, ptr};

type SysResult<T = ()> = Result<T, Errno>;

/// Resolve every path component inside the directory given, as if it were `/`.
pub const RESOLVE_IN_ROOT: u64 = 0x10;
/// Refuse to leave the directory given (a `..` above it or an absolute link fails).
pub const RESOLVE_BENEATH: u64 = 0x08;
/// Follow no symbolic link at all.
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
/// Follow no /proc magic link.
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
/// Stay on the mount the walk starts on.
pub const RESOLVE_NO_XDEV: u64 = 0x01;

/// `MOUNT_ATTR_*` bits for fsmount and mount_setattr.
pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
/// No setuid/setgid bits honoured.
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
/// No device nodes opened.
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
/// No program executed.
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;

const OPEN_TREE_CLONE: usize = 1;
const MOVE_MOUNT_F_EMPTY_PATH: usize = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH: usize = 0x40;
const FSOPEN_CLOEXEC: usize = 1;
const FSMOUNT_CLOEXEC: usize = 1;
const FSCONFIG_SET_STRING: usize = 1;
const FSCONFIG_CMD_CREATE: usize = 6;

/// The kernel's `struct open_how` (linux/openat2.h).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// openat2(dir, path, flags | O_CLOEXEC, resolve): a descriptor of `path` found under `dir`
/// the way `resolve` allows. Async-signal-safe: does not allocate.
///
/// With RESOLVE_IN_ROOT or RESOLVE_BENEATH the kernel answers EAGAIN when a mount or rename
/// anywhere on the system raced with a `..` in the lookup, and asks the caller to retry: it is
/// retried here, a bounded number of times (other sandboxes setting up mount all the time).
pub fn openat2(dir: RawFd, path: &CStr, flags: i32, resolve: u64) -> SysResult<RawFd> {
    const TRIES: usize = 64;
    let how = OpenHow { flags: (flags | libc::O_CLOEXEC) as u64, mode: 0, resolve };
    let args = [dir as usize, ptr(path), &how as *const OpenHow as usize, std::mem::size_of::<OpenHow>(), 0, 0];
    let mut result = call(libc::SYS_openat2, args);
    for _ in 1..TRIES {
        if result != Err(nix::errno::Errno::EAGAIN) {
            break;
        }
        result = call(libc::SYS_openat2, args);
    }
    result.map(|fd| fd as RawFd)
}

/// mkdirat(2). Async-signal-safe: does not allocate.
pub fn mkdirat(dir: RawFd, name: &CStr, mode: u32) -> SysResult {
    call(libc::SYS_mkdirat, [dir as usize, ptr(name), mode as usize, 0, 0, 0]).map(drop)
}

/// mknodat(dir, name, S_IFREG | mode, 0): an empty regular file. Async-signal-safe: does not
/// allocate.
pub fn mknod_regular_at(dir: RawFd, name: &CStr, mode: u32) -> SysResult {
    let args = [dir as usize, ptr(name), (libc::S_IFREG | mode) as usize, 0, 0, 0];
    call(libc::SYS_mknodat, args).map(drop)
}

/// mknodat(dir, name, mode, dev): a device node or FIFO (`mode` holds its S_IF* type).
/// Async-signal-safe: does not allocate.
pub fn mknod_at(dir: RawFd, name: &CStr, mode: u32, dev: u64) -> SysResult {
    call(libc::SYS_mknodat, [dir as usize, ptr(name), mode as usize, dev as usize, 0, 0]).map(drop)
}

/// fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW). Async-signal-safe.
pub fn chown_at(dir: RawFd, name: &CStr, uid: u32, gid: u32) -> SysResult {
    let flags = libc::AT_SYMLINK_NOFOLLOW as usize;
    call(libc::SYS_fchownat, [dir as usize, ptr(name), uid as usize, gid as usize, flags, 0]).map(drop)
}

/// umask(2): sets the calling process's mask, returns the old one. The CLONE_VM child has a
/// file-system context of its own (no CLONE_FS): the caller's is not touched.
/// Async-signal-safe.
pub fn umask(mask: u32) -> u32 {
    call(libc::SYS_umask, [mask as usize, 0, 0, 0, 0, 0]).unwrap_or(0) as u32
}

/// symlinkat(target, dir, name). Async-signal-safe: does not allocate.
pub fn symlinkat(target: &CStr, dir: RawFd, name: &CStr) -> SysResult {
    call(libc::SYS_symlinkat, [ptr(target), dir as usize, ptr(name), 0, 0, 0]).map(drop)
}

/// fchmod(2). Async-signal-safe: does not allocate.
pub fn fchmod(fd: RawFd, mode: u32) -> SysResult {
    call(libc::SYS_fchmod, [fd as usize, mode as usize, 0, 0, 0, 0]).map(drop)
}

/// open_tree(dir, path, OPEN_TREE_CLONE | AT_RECURSIVE): a detached copy of the mount tree
/// at `path` (relative to `dir`; the empty path means `dir` itself). Async-signal-safe.
pub fn clone_tree(dir: RawFd, path: &CStr) -> SysResult<RawFd> {
    let mut flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as usize | libc::AT_RECURSIVE as usize;
    if path.is_empty() {
        flags |= libc::AT_EMPTY_PATH as usize;
    }
    call(libc::SYS_open_tree, [dir as usize, ptr(path), flags, 0, 0, 0]).map(|fd| fd as RawFd)
}

/// move_mount(from, "", to, "", F_EMPTY_PATH | T_EMPTY_PATH): attaches the detached mount
/// `from` onto the file or directory `to` refers to. Async-signal-safe: does not allocate.
pub fn move_mount(from: RawFd, to: RawFd) -> SysResult {
    let flags = MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH;
    call(libc::SYS_move_mount, [from as usize, ptr(c""), to as usize, ptr(c""), flags, 0]).map(drop)
}

/// fsopen(fstype, FSOPEN_CLOEXEC): a new filesystem context. Async-signal-safe.
pub fn fsopen(fstype: &CStr) -> SysResult<RawFd> {
    call(libc::SYS_fsopen, [ptr(fstype), FSOPEN_CLOEXEC, 0, 0, 0, 0]).map(|fd| fd as RawFd)
}

/// fsconfig(fs, FSCONFIG_SET_STRING, key, value). Async-signal-safe: does not allocate.
pub fn fsconfig_string(fs: RawFd, key: &CStr, value: &CStr) -> SysResult {
    call(libc::SYS_fsconfig, [fs as usize, FSCONFIG_SET_STRING, ptr(key), ptr(value), 0, 0]).map(drop)
}

/// fsconfig(fs, FSCONFIG_CMD_CREATE) then fsmount(fs, FSMOUNT_CLOEXEC, attrs): the new
/// filesystem as a detached mount. Async-signal-safe: does not allocate.
pub fn create_and_mount(fs: RawFd, attrs: u64) -> SysResult<RawFd> {
    call(libc::SYS_fsconfig, [fs as usize, FSCONFIG_CMD_CREATE, 0, 0, 0, 0])?;
    call(libc::SYS_fsmount, [fs as usize, FSMOUNT_CLOEXEC, attrs as usize, 0, 0, 0]).map(|fd| fd as RawFd)
}

/// The kernel's `struct mount_attr` (linux/mount.h).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE): sets `attr_set` on the mount `fd`
/// refers to (attached or detached) and every mount below it. Async-signal-safe.
pub fn set_tree_attrs(fd: RawFd, attr_set: u64) -> SysResult {
    set_mount_attrs(fd, attr_set, true)
}

/// fchdir(2). Async-signal-safe: does not allocate.
pub fn fchdir(fd: RawFd) -> SysResult {
    call(libc::SYS_fchdir, [fd as usize, 0, 0, 0, 0, 0]).map(drop)
}

/// mount_setattr(fd, "", AT_EMPTY_PATH [| AT_RECURSIVE]): sets `attr_set` on the mount `fd`
/// refers to, and with `recursive` on every mount below it. Async-signal-safe.
pub fn set_mount_attrs(fd: RawFd, attr_set: u64, recursive: bool) -> SysResult {
    let attr = MountAttr { attr_set, attr_clr: 0, propagation: 0, userns_fd: 0 };
    let recursive = if recursive { libc::AT_RECURSIVE } else { 0 };
    let flags = (libc::AT_EMPTY_PATH | recursive) as usize;
    let size = std::mem::size_of::<MountAttr>();
    call(libc::SYS_mount_setattr, [fd as usize, ptr(c""), flags, &attr as *const MountAttr as usize, size, 0]).map(drop)
}

/// mount_setattr(fd, "", AT_EMPTY_PATH [| AT_RECURSIVE]) with `propagation` (MS_SHARED,
/// MS_SLAVE, MS_PRIVATE or MS_UNBINDABLE). Async-signal-safe.
pub fn set_propagation(fd: RawFd, propagation: u64, recursive: bool) -> SysResult {
    let attr = MountAttr { attr_set: 0, attr_clr: 0, propagation, userns_fd: 0 };
    let recursive = if recursive { libc::AT_RECURSIVE } else { 0 };
    let flags = (libc::AT_EMPTY_PATH | recursive) as usize;
    let size = std::mem::size_of::<MountAttr>();
    call(libc::SYS_mount_setattr, [fd as usize, ptr(c""), flags, &attr as *const MountAttr as usize, size, 0]).map(drop)
}

/// A descriptor the child opened, closed when it goes out of scope (close(2) does not
/// allocate, so this is safe in the child).
#[derive(Debug)]
pub struct Fd(pub RawFd);

impl Drop for Fd {
    fn drop(&mut self) {
        if self.0 >= 0 {
            let _ = super::child::close(self.0);
        }
    }
}
