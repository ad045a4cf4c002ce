//! Running the mount plan (**child**): each operation a few system calls on paths the parent
//! prepared. Async-signal-safe: no allocation.
//!
//! Once the new root's own mount is in place the child holds a descriptor of it, and every
//! path inside is resolved from there with `RESOLVE_IN_ROOT` (a symlink or `..` stays inside).
//! Mounts are made detached (open_tree, fsmount) and attached by descriptor (move_mount), so
//! what was resolved is what gets mounted on.

use std::ffi::CStr;
use std::os::fd::RawFd;

use nix::errno::Errno;

use super::ops::{Fs, InRoot, Op, PlannedOp};
use super::overlay;
use crate::child::record::{record, Record};
use crate::child::step::Step;
use crate::sys::child as sys;
use crate::sys::mount_api::{self as api, Fd};

/// The descriptors the plan works from: the new root, and the procfs mounted last.
struct Anchors {
    root: Fd,
    proc: Fd,
}

/// Runs every operation in order; a failure says which one, by index (`Step::Mount`), or, for
/// the overlay root, its stage or layer (`Step::Overlay`). `spawn_upper`: this spawn's upper
/// directory on the host, for an overlay root with a directory upper.
pub(crate) fn run(ops: &[PlannedOp], spawn_upper: Option<&CStr>) -> Result<(), Record> {
    let mut anchors = Anchors { root: Fd(-1), proc: Fd(-1) };
    for (index, planned) in ops.iter().enumerate() {
        if let Op::Overlay(overlay) = &planned.op {
            anchors.root = overlay::apply::mount(overlay, spawn_upper).map_err(|f| record(Step::Overlay, f))?;
            continue;
        }
        apply(&planned.op, &mut anchors).map_err(|errno| record(Step::Mount, (index, errno)))?;
    }
    Ok(())
}

fn apply(op: &Op, anchors: &mut Anchors) -> Result<(), Errno> {
    let root = anchors.root.0;
    match op {
        Op::MakePrivate => sys::mount(None, c"/", None, libc::MS_REC | libc::MS_PRIVATE, None),
        Op::RootTmpfs { at, options } => {
            let mount = fresh(Fs::Tmpfs, options, Fs::Tmpfs.attrs())?;
            anchors.root = attach_root(mount, at)?;
            Ok(())
        }
        Op::RootBind { path } => {
            let dir = host_dir(path)?;
            let tree = Fd(api::clone_tree(dir.0, c"")?);
            api::set_tree_attrs(tree.0, api::MOUNT_ATTR_NODEV)?;
            api::move_mount(tree.0, dir.0)?;
            anchors.root = tree;
            Ok(())
        }
        // Run by `run` itself, which reports its failures as `Step::Overlay`.
        Op::Overlay(_) => Err(Errno::EINVAL),
        Op::Mkdir { path } => existing_ok(api::mkdirat(parent(root, path)?.0, &path.name, 0o755)),
        Op::Touch { path } => existing_ok(api::mknod_regular_at(parent(root, path)?.0, &path.name, 0o644)),
        Op::Symlink { target, link } => existing_ok(api::symlinkat(target, parent(root, link)?.0, &link.name)),
        Op::Chmod { path, mode } => {
            let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW;
            let dir = Fd(api::openat2(root, &path.path, flags, api::RESOLVE_IN_ROOT)?);
            api::fchmod(dir.0, *mode)
        }
        Op::Bind { source, target, readonly, devices, extra } => {
            let tree = Fd(api::clone_tree(libc::AT_FDCWD, source)?);
            let attrs = bind_attrs(*readonly, *devices) | extra;
            if attrs != 0 {
                api::set_tree_attrs(tree.0, attrs)?;
            }
            api::move_mount(tree.0, resolve(root, &target.path, 0)?.0)
        }
        Op::Fresh { fs, target, options, attrs } => {
            let mount = fresh(*fs, options, *attrs)?;
            api::move_mount(mount.0, resolve(root, &target.path, 0)?.0)?;
            if *fs == Fs::Proc {
                anchors.proc = mount;
            }
            Ok(())
        }
        Op::Mask { name, dir, .. } => mask(anchors.proc.0, name, *dir),
        Op::MaskPath { target } => match in_root(root, &target.path)? {
            Some(entry) if is_directory(&entry)? => api::move_mount(empty_dir(anchors.proc.0)?.0, entry.0),
            Some(entry) => cover(entry, anchors.proc.0),
            None => Ok(()),
        },
        Op::Mknod { path, mode, dev, uid, gid } => {
            let dir = parent(root, path)?;
            // The mode exactly, without a chmod by name (which would follow a link swapped in).
            let old = api::umask(0);
            let made = api::mknod_at(dir.0, &path.name, *mode, *dev);
            api::umask(old);
            made?;
            api::chown_at(dir.0, &path.name, *uid, *gid)
        }
        Op::Propagate { target, flag, recursive } => {
            api::set_propagation(resolve(root, &target.path, 0)?.0, *flag, *recursive)
        }
        Op::RootPropagation { flag, recursive } => api::set_propagation(root, *flag, *recursive),
        Op::ReadOnlyPath { target } => match in_root(root, &target.path)? {
            Some(entry) => read_only_tree(&entry),
            None => Ok(()),
        },
        Op::ReadOnlyEntry { name, .. } => read_only_entry(anchors.proc.0, name),
        Op::ReadOnlyRoot { .. } => api::set_mount_attrs(root, api::MOUNT_ATTR_RDONLY, false),
        Op::EnterNewRoot { .. } => enter_new_root(root),
    }
}

/// The attributes a bind gets before it is attached.
fn bind_attrs(readonly: bool, devices: bool) -> u64 {
    let ro = if readonly { api::MOUNT_ATTR_RDONLY } else { 0 };
    let nodev = if devices { 0 } else { api::MOUNT_ATTR_NODEV };
    ro | nodev
}

/// A host directory (the caller's path, links followed) as an O_PATH descriptor.
fn host_dir(path: &CStr) -> Result<Fd, Errno> {
    sys::openat(libc::AT_FDCWD, path, libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0).map(Fd)
}

/// Attaches the detached mount `mount` on host directory `at`; the mount is the new root.
fn attach_root(mount: Fd, at: &CStr) -> Result<Fd, Errno> {
    api::move_mount(mount.0, host_dir(at)?.0)?;
    Ok(mount)
}

/// `path` inside the new root, as an O_PATH descriptor; links are followed but stay inside.
fn resolve(root: RawFd, path: &CStr, flags: i32) -> Result<Fd, Errno> {
    let resolve = api::RESOLVE_IN_ROOT | api::RESOLVE_NO_MAGICLINKS;
    api::openat2(root, path, libc::O_PATH | flags, resolve).map(Fd)
}

fn parent(root: RawFd, path: &InRoot) -> Result<Fd, Errno> {
    resolve(root, &path.parent, libc::O_DIRECTORY)
}

/// A new filesystem of kind `fs`, configured and mounted detached.
fn fresh(fs: Fs, options: &[(std::ffi::CString, std::ffi::CString)], attrs: u64) -> Result<Fd, Errno> {
    let context = Fd(api::fsopen(fs.name())?);
    // The mount table's source column: the user's name for it, else the type (as mount(8)
    // shows "proc", "tmpfs"), rather than "none".
    if !options.iter().any(|(key, _)| key.as_bytes() == b"source") {
        api::fsconfig_string(context.0, c"source", fs.name())?;
    }
    for (key, value) in options {
        api::fsconfig_string(context.0, key, value)?;
    }
    api::create_and_mount(context.0, attrs).map(Fd)
}

/// An entry of the procfs `proc`, following no link and staying on that mount; `None` if this
/// kernel has no such entry.
fn proc_entry(proc: RawFd, name: &CStr, flags: i32) -> Result<Option<Fd>, Errno> {
    let resolve = api::RESOLVE_BENEATH | api::RESOLVE_NO_SYMLINKS | api::RESOLVE_NO_XDEV;
    match api::openat2(proc, name, libc::O_PATH | libc::O_NOFOLLOW | flags, resolve) {
        Ok(fd) => Ok(Some(Fd(fd))),
        Err(Errno::ENOENT) => Ok(None),
        Err(errno) => Err(errno),
    }
}

/// Covers a directory with an empty read-only tmpfs, anything else with the host's /dev/null
/// (resolved before the pivot, so the sandbox cannot have replaced it). `dir` is what the
/// entry usually is: it is opened as that first, and as the other kind if it is not.
fn mask(proc: RawFd, name: &CStr, dir: bool) -> Result<(), Errno> {
    let (opened, opened_as_dir) = match proc_entry(proc, name, if dir { libc::O_DIRECTORY } else { 0 }) {
        Err(Errno::ENOTDIR) => (proc_entry(proc, name, 0)?, false),
        other => (other?, dir),
    };
    let Some(target) = opened else {
        return Ok(());
    };
    if opened_as_dir {
        return api::move_mount(empty_dir(proc)?.0, target.0);
    }
    cover(target, proc)
}

/// What is at `path` in the new root (links resolved inside it), `None` if nothing is.
fn in_root(root: RawFd, path: &CStr) -> Result<Option<Fd>, Errno> {
    match resolve(root, path, 0) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::ENOENT) => Ok(None),
        Err(errno) => Err(errno),
    }
}

/// Covers `target` with the host's /dev/null, or, a directory, with an empty read-only one.
fn cover(target: Fd, proc: RawFd) -> Result<(), Errno> {
    let cover_dir = || empty_dir(proc);
    let null = Fd(api::clone_tree(libc::AT_FDCWD, c"/dev/null")?);
    // Read-only, so where an id inside is host root it cannot chmod the host's /dev/null
    // through the cover (nodev would make the cover unreadable).
    api::set_tree_attrs(null.0, MASK_FILE_ATTRS)?;
    match api::move_mount(null.0, target.0) {
        // A file's mount onto a directory is refused with EINVAL: an entry this kernel made a
        // directory where it is usually a file gets the directory's cover.
        Err(Errno::EINVAL) if is_directory(&target)? => api::move_mount(cover_dir()?.0, target.0),
        other => other,
    }
}

/// A read-only empty directory to cover a directory with: procfs's own permanently empty
/// /proc/sys/fs/binfmt_misc (a mount point the kernel keeps empty) bound read-only, which
/// costs half of a new tmpfs; a tmpfs where this kernel has none.
fn empty_dir(proc: RawFd) -> Result<Fd, Errno> {
    // EXDEV: /proc/sys is a read-only bind by now (a later mask's), and the entry is on it.
    let found = if proc < 0 {
        None
    } else {
        match proc_entry(proc, c"sys/fs/binfmt_misc", libc::O_DIRECTORY) {
            Err(Errno::EXDEV) => None,
            other => other?,
        }
    };
    match found {
        Some(empty) => {
            let tree = Fd(api::clone_tree(empty.0, c"")?);
            api::set_tree_attrs(tree.0, MASK_DIR_ATTRS)?;
            Ok(tree)
        }
        None => fresh(Fs::Tmpfs, &[], MASK_DIR_ATTRS),
    }
}

/// Whether the O_PATH descriptor `entry` is a directory: "." opens below it only then.
fn is_directory(entry: &Fd) -> Result<bool, Errno> {
    match api::openat2(entry.0, c".", libc::O_PATH | libc::O_DIRECTORY, api::RESOLVE_BENEATH) {
        Ok(fd) => {
            drop(Fd(fd));
            Ok(true)
        }
        Err(Errno::ENOTDIR) => Ok(false),
        Err(errno) => Err(errno),
    }
}

const MASK_DIR_ATTRS: u64 = MASK_FILE_ATTRS | api::MOUNT_ATTR_NODEV;
const MASK_FILE_ATTRS: u64 = api::MOUNT_ATTR_RDONLY | api::MOUNT_ATTR_NOSUID | api::MOUNT_ATTR_NOEXEC;

/// Binds an entry of the procfs `proc` onto itself, read-only.
fn read_only_entry(proc: RawFd, name: &CStr) -> Result<(), Errno> {
    let Some(target) = proc_entry(proc, name, 0)? else {
        return Ok(());
    };
    read_only_tree(&target)
}

/// Binds what `target` is onto itself, read-only with everything below it.
fn read_only_tree(target: &Fd) -> Result<(), Errno> {
    let tree = Fd(api::clone_tree(target.0, c"")?);
    api::set_tree_attrs(tree.0, api::MOUNT_ATTR_RDONLY)?;
    api::move_mount(tree.0, target.0)
}

/// The pivot_root(".", ".") idiom: the old root ends up stacked on the new one and is then
/// detached with everything below it, so nothing of the host stays reachable. The new root is
/// entered by its descriptor, the one every mount above was made in.
fn enter_new_root(root: RawFd) -> Result<(), Errno> {
    api::fchdir(root)?;
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
