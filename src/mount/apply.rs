//! Running the mount plan (**child**): each operation one or two system calls on paths the
//! parent prepared. Async-signal-safe: no allocation.

use std::ffi::CStr;

use nix::errno::Errno;

use super::ops::{Op, PlannedOp};
use crate::sys::child as sys;

const MOUNT_ATTR_RDONLY: u64 = 0x1;

/// Runs every operation in order; a failure says which one, by index.
pub(crate) fn run(ops: &[PlannedOp]) -> Result<(), (usize, Errno)> {
    for (index, planned) in ops.iter().enumerate() {
        apply(&planned.op).map_err(|errno| (index, errno))?;
    }
    Ok(())
}

fn apply(op: &Op) -> Result<(), Errno> {
    let nosuid_nodev = libc::MS_NOSUID | libc::MS_NODEV;
    match op {
        Op::MakePrivate => sys::mount(None, c"/", None, libc::MS_REC | libc::MS_PRIVATE, None),
        Op::Tmpfs { target, data } => sys::mount(Some(c"tmpfs"), target, Some(c"tmpfs"), nosuid_nodev, Some(data)),
        Op::Mkdir { path } => existing_ok(sys::mkdir(path, 0o755)),
        Op::Touch { path } => touch(path),
        Op::Chmod { path, mode } => sys::chmod(path, *mode),
        Op::Symlink { target, link } => existing_ok(sys::symlink(target, link)),
        Op::Bind { source, target } => sys::mount(Some(source), target, None, libc::MS_BIND | libc::MS_REC, None),
        Op::ReadOnly { target, recursive } => sys::mount_setattr(target, *recursive, MOUNT_ATTR_RDONLY),
        Op::Proc { target } => sys::mount(Some(c"proc"), target, Some(c"proc"), nosuid_nodev | libc::MS_NOEXEC, None),
        Op::Devpts { target } => {
            let data = c"newinstance,ptmxmode=0666,mode=0620";
            sys::mount(Some(c"devpts"), target, Some(c"devpts"), libc::MS_NOSUID | libc::MS_NOEXEC, Some(data))
        }
        Op::EnterNewRoot { new_root } => enter_new_root(new_root),
    }
}

/// The pivot_root(".", ".") idiom: the old root ends up stacked on the new one and is then
/// detached with everything below it, so nothing of the host stays reachable.
fn enter_new_root(new_root: &CStr) -> Result<(), Errno> {
    sys::chdir(new_root)?;
    sys::pivot_root(c".", c".")?;
    sys::umount2(c".", libc::MNT_DETACH)?;
    sys::chdir(c"/")
}

fn existing_ok(result: Result<(), Errno>) -> Result<(), Errno> {
    match result {
        Err(Errno::EEXIST) => Ok(()),
        other => other,
    }
}

/// An empty regular file to bind a file onto: mknod(S_IFREG) is one system call where
/// open + close would be two, and it is allowed in a user namespace.
fn touch(path: &CStr) -> Result<(), Errno> {
    existing_ok(sys::mknod_regular(path, 0o644))
}
