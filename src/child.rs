//! The child's recipe: everything between clone and exec (**child**).
//!
//! Runs on a stack of its own in memory shared with the parent (see `sys::vmclone`). Every
//! function here is async-signal-safe: it does not allocate, lock, format or panic; it reads
//! only what the parent prepared in [`ChildPlan`]. On failure it writes one record on the
//! report pipe and exits with 127; on success exec closes the pipe (EOF tells the parent).

use std::convert::Infallible;
use std::ffi::{CStr, CString};
use std::os::fd::RawFd;

use nix::errno::Errno;

use crate::cgroup::join::JoinFile;
use crate::plan::{Op, PlannedOp};
use crate::report::{Record, Step};
use crate::sys::child as sys;
use crate::sys::CStrArray;
use crate::Rlimit;

/// Everything the child needs, prepared by the parent. It borrows from the parent, which
/// keeps it alive until the child has exec'd or exited.
#[derive(Debug)]
pub(crate) struct ChildPlan<'a> {
    pub go_read: RawFd,
    pub go_write: RawFd,
    pub report_read: RawFd,
    pub report_write: RawFd,
    pub die_with_parent: bool,
    /// CLONE_NEWTIME or 0, unshared right after release.
    pub unshare_time: i32,
    /// CLONE_NEWCGROUP or 0, unshared once the child is in its cgroup.
    pub unshare_cgroup: i32,
    /// The parent makes the child's cgroup while it sets up (hosts with cgroup v1): wait for a
    /// second go byte, then join it through these files, before entering the cgroup namespace.
    pub second_release: bool,
    pub cgroup_join: &'a [JoinFile],
    pub time_offsets: Option<&'a CStr>,
    pub mounts: &'a [PlannedOp],
    pub hostname: Option<&'a [u8]>,
    pub domainname: Option<&'a [u8]>,
    pub loopback: bool,
    pub rlimits: &'a [Rlimit],
    pub groups: Option<&'a [u32]>,
    pub gid: Option<u32>,
    pub uid: Option<u32>,
    pub no_new_privs: bool,
    /// (source, target) descriptor pairs: stdio and passed descriptors.
    pub fd_moves: &'a [(RawFd, RawFd)],
    /// A descriptor number above every source, target and control descriptor.
    pub fd_scratch: RawFd,
    pub cwd: Option<&'a CStr>,
    /// Paths to try in order (the PATH lookup was done by the parent).
    pub candidates: &'a [CString],
    pub argv: &'a CStrArray,
    pub envp: &'a CStrArray,
}

/// The child's entry point. Never returns.
pub(crate) fn main(p: &ChildPlan<'_>) -> ! {
    let Err(failure) = run(p);
    let _ = sys::write(p.report_write, &failure.encode());
    sys::exit_group(127)
}

/// The recipe, in order. Each step is a small function below.
fn run(p: &ChildPlan<'_>) -> Result<Infallible, Record> {
    at(Step::WaitGo, close_parent_ends(p))?;
    at(Step::DeathSignal, set_death_signal(p))?;
    at(Step::WaitGo, wait_go(p, !p.second_release))?;
    at(Step::Unshare, unshare(p.unshare_time))?;
    at(Step::TimeOffsets, write_time_offsets(p))?;
    run_mount_plan(p.mounts)?;
    at(Step::Hostname, p.hostname.map_or(Ok(()), sys::sethostname))?;
    at(Step::Domainname, p.domainname.map_or(Ok(()), sys::setdomainname))?;
    at(Step::Loopback, if p.loopback { sys::loopback_up() } else { Ok(()) })?;
    set_rlimits(p.rlimits)?;
    at(Step::WaitGo, if p.second_release { wait_go(p, true) } else { Ok(()) })?;
    join_cgroup(p.cgroup_join)?;
    at(Step::Unshare, unshare(p.unshare_cgroup))?;
    at(Step::Groups, p.groups.map_or(Ok(()), sys::setgroups))?;
    at(Step::Gid, p.gid.map_or(Ok(()), sys::setgid))?;
    at(Step::Uid, p.uid.map_or(Ok(()), sys::setuid))?;
    at(Step::NoNewPrivs, set_no_new_privs(p))?;
    at(Step::Fds, arrange_fds(p))?;
    at(Step::Chdir, p.cwd.map_or(Ok(()), sys::chdir))?;
    at(Step::Signals, sys::reset_signals().and_then(|()| sys::unblock_signals()))?;
    Err(exec(p))
}

fn at(step: Step, result: Result<(), Errno>) -> Result<(), Record> {
    result.map_err(|errno| Record { step, index: 0, errno })
}

/// Closes the parent's ends of the control pipes, so a dead parent reads as EOF on `go`.
fn close_parent_ends(p: &ChildPlan<'_>) -> Result<(), Errno> {
    sys::close(p.go_write)?;
    sys::close(p.report_read)
}

/// PR_SET_PDEATHSIG before waiting for `go`: if the parent died before this, `go` is at EOF.
fn set_death_signal(p: &ChildPlan<'_>) -> Result<(), Errno> {
    if p.die_with_parent {
        sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as usize)?;
    }
    Ok(())
}

/// Waits for one go byte; EOF means the parent is gone or gave up. `last` closes the pipe.
fn wait_go(p: &ChildPlan<'_>, last: bool) -> Result<(), Errno> {
    let mut byte = [0u8; 1];
    match sys::read(p.go_read, &mut byte)? {
        1 if last => sys::close(p.go_read),
        1 => Ok(()),
        _ => Err(Errno::EPIPE),
    }
}

fn unshare(flag: i32) -> Result<(), Errno> {
    if flag != 0 {
        sys::unshare(flag)?;
    }
    Ok(())
}

/// Offsets apply to the time namespace our exec will enter; they must be written first.
fn write_time_offsets(p: &ChildPlan<'_>) -> Result<(), Errno> {
    let Some(text) = p.time_offsets else {
        return Ok(());
    };
    write_at(libc::AT_FDCWD, c"/proc/self/timens_offsets", text.to_bytes())
}

/// Writes "0" (this process) to each file: see `cgroup::join` for why the child moves itself.
fn join_cgroup(files: &[JoinFile]) -> Result<(), Record> {
    for (index, file) in files.iter().enumerate() {
        write_at(file.parent_fd(), file.relative(), b"0").map_err(|errno| Record {
            step: Step::JoinCgroup,
            index: index as u16,
            errno,
        })?;
    }
    Ok(())
}

/// Opens `path` (relative to `dir`) for writing, writes `bytes` once and closes it.
fn write_at(dir: RawFd, path: &CStr, bytes: &[u8]) -> Result<(), Errno> {
    let fd = sys::openat(dir, path, libc::O_WRONLY | libc::O_CLOEXEC, 0)?;
    let written = sys::write(fd, bytes);
    sys::close(fd)?;
    written.map(drop)
}

fn run_mount_plan(ops: &[PlannedOp]) -> Result<(), Record> {
    for (index, planned) in ops.iter().enumerate() {
        apply(&planned.op).map_err(|errno| Record { step: Step::Mount, index: index as u16, errno })?;
    }
    Ok(())
}

const MOUNT_ATTR_RDONLY: u64 = 0x1;

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

fn set_rlimits(rlimits: &[Rlimit]) -> Result<(), Record> {
    for (index, r) in rlimits.iter().enumerate() {
        sys::setrlimit(r.resource.raw(), r.soft, r.hard).map_err(|errno| Record {
            step: Step::Rlimit,
            index: index as u16,
            errno,
        })?;
    }
    Ok(())
}

fn set_no_new_privs(p: &ChildPlan<'_>) -> Result<(), Errno> {
    if p.no_new_privs {
        sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1)?;
    }
    Ok(())
}

/// Puts each source descriptor at its target, then marks every other descriptor close-on-exec.
/// Sources are first copied above every number in play, so no move can clobber a source that
/// is still to be moved.
fn arrange_fds(p: &ChildPlan<'_>) -> Result<(), Errno> {
    for (i, (src, _)) in p.fd_moves.iter().enumerate() {
        sys::dup3(*src, p.fd_scratch.wrapping_add(i as RawFd), libc::O_CLOEXEC)?;
    }
    for (i, (_, dst)) in p.fd_moves.iter().enumerate() {
        sys::dup3(p.fd_scratch.wrapping_add(i as RawFd), *dst, 0)?;
    }
    cloexec_from_3()?;
    for (_, dst) in p.fd_moves.iter().filter(|(_, dst)| *dst >= 3) {
        sys::fcntl(*dst, libc::F_SETFD, 0)?;
    }
    Ok(())
}

/// close_range(3, ~0, CLOSE_RANGE_CLOEXEC), or on kernels before 5.11 a loop up to the
/// descriptor limit.
fn cloexec_from_3() -> Result<(), Errno> {
    match sys::close_range(3, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) {
        Err(Errno::ENOSYS | Errno::EINVAL) => {
            for fd in 3..65536 {
                match sys::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) {
                    Ok(_) | Err(Errno::EBADF) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }
        other => other,
    }
}

/// Tries each candidate path like execvp: a missing file moves on to the next, EACCES is
/// remembered (and reported if nothing better turns up), anything else stops.
fn exec(p: &ChildPlan<'_>) -> Record {
    let record = |index: usize, errno| Record { step: Step::Exec, index: index as u16, errno };
    let mut not_found = record(0, Errno::ENOENT);
    let mut denied = None;
    for (index, path) in p.candidates.iter().enumerate() {
        match sys::execve(path, p.argv, p.envp) {
            Errno::ENOENT | Errno::ENOTDIR => not_found = record(index, Errno::ENOENT),
            Errno::EACCES => denied = denied.or(Some(record(index, Errno::EACCES))),
            errno => return record(index, errno),
        }
    }
    denied.unwrap_or(not_found)
}
