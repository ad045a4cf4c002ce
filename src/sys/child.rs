//! Safe wrappers for the system calls the **child** makes between clone and exec.
//!
//! Every function here is async-signal-safe: it does not allocate, lock, format or panic, and
//! it reports failure as the kernel's errno without touching the shared `errno` (see `raw`).
//! Paths come in as `&CStr` prepared by the parent.
//!
//! # Safety
//! One `unsafe` block makes every system call ([`call`]): its callers here pass only integers
//! and pointers taken from live references whose sizes match what the kernel reads or writes.
//! A second zeroes a plain-old-data `ifreq`.

use std::ffi::CStr;
use std::os::fd::RawFd;

use nix::errno::Errno;

use super::cstr_array::CStrArray;
use super::raw::{check, syscall6};

type SysResult<T = ()> = Result<T, Errno>;

pub(super) fn ptr(s: &CStr) -> usize {
    s.as_ptr() as usize
}

fn opt_ptr(s: Option<&CStr>) -> usize {
    s.map_or(0, ptr)
}

/// Makes a system call whose arguments are plain integers or pointers built from references
/// that outlive the call. The one system-call wrapper of `sys/`'s child-side modules (this
/// one, `mount_api`, `caps`, `seccomp`, `landlock`): each caller keeps that contract.
pub(super) fn call(nr: i64, a: [usize; 6]) -> SysResult<usize> {
    // SAFETY: every caller in `sys/` passes only integers or pointers taken from live
    // references (`&CStr`, slices, `#[repr(C)]` values laid out as the kernel's structs) whose
    // sizes match what the system call reads or writes, for the duration of the call.
    check(unsafe { syscall6(nr, a) })
}

/// Ends the child at once. Async-signal-safe: does not allocate.
pub fn exit_group(code: i32) -> ! {
    loop {
        let _ = call(libc::SYS_exit_group, [code as usize, 0, 0, 0, 0, 0]);
    }
}

/// read(2), retried on EINTR. Async-signal-safe: does not allocate.
pub fn read(fd: RawFd, buf: &mut [u8]) -> SysResult<usize> {
    let args = [fd as usize, buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0];
    retry(|| call(libc::SYS_read, args))
}

/// write(2), retried on EINTR. Async-signal-safe: does not allocate.
pub fn write(fd: RawFd, buf: &[u8]) -> SysResult<usize> {
    let args = [fd as usize, buf.as_ptr() as usize, buf.len(), 0, 0, 0];
    retry(|| call(libc::SYS_write, args))
}

fn retry(mut f: impl FnMut() -> SysResult<usize>) -> SysResult<usize> {
    loop {
        match f() {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

/// Whether the read end of the pipe whose write end is `fd` is closed everywhere (ppoll
/// reports POLLERR on a pipe's write end without readers). Async-signal-safe.
pub fn pipe_reader_gone(fd: RawFd) -> SysResult<bool> {
    let mut pollfd = libc::pollfd { fd, events: 0, revents: 0 };
    let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    let args = [&mut pollfd as *mut libc::pollfd as usize, 1, &zero as *const libc::timespec as usize, 0, 8, 0];
    call(libc::SYS_ppoll, args)?;
    Ok(pollfd.revents & libc::POLLERR != 0)
}

/// close(2). Async-signal-safe: does not allocate.
pub fn close(fd: RawFd) -> SysResult {
    call(libc::SYS_close, [fd as usize, 0, 0, 0, 0, 0]).map(drop)
}

/// prctl(2) with one argument. Async-signal-safe: does not allocate.
pub fn prctl(option: i32, arg: usize) -> SysResult {
    call(libc::SYS_prctl, [option as usize, arg, 0, 0, 0, 0]).map(drop)
}

/// unshare(2) of `flags`, or nothing when they are 0. Async-signal-safe: does not allocate.
pub fn unshare(flags: i32) -> SysResult {
    if flags == 0 {
        return Ok(());
    }
    call(libc::SYS_unshare, [flags as usize, 0, 0, 0, 0, 0]).map(drop)
}

/// setsid(2): a new session and process group, without a controlling terminal.
/// Async-signal-safe: does not allocate.
pub fn setsid() -> SysResult {
    call(libc::SYS_setsid, [0; 6]).map(drop)
}

/// openat(2), `path` relative to the directory `dir` (or AT_FDCWD). Async-signal-safe: does
/// not allocate.
pub fn openat(dir: RawFd, path: &CStr, flags: i32, mode: u32) -> SysResult<RawFd> {
    let args = [dir as usize, ptr(path), flags as usize, mode as usize, 0, 0];
    call(libc::SYS_openat, args).map(|fd| fd as RawFd)
}

/// Opens `path` (relative to `dir`) for writing, writes `bytes` in one write(2) and closes
/// it. Async-signal-safe: does not allocate.
pub fn write_file_at(dir: RawFd, path: &CStr, bytes: &[u8]) -> SysResult {
    let fd = openat(dir, path, libc::O_WRONLY | libc::O_CLOEXEC, 0)?;
    let written = write(fd, bytes);
    close(fd)?;
    written.map(drop)
}

/// mount(2). Async-signal-safe: does not allocate.
pub fn mount(
    source: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: u64,
    data: Option<&CStr>,
) -> SysResult {
    let args = [opt_ptr(source), ptr(target), opt_ptr(fstype), flags as usize, opt_ptr(data), 0];
    call(libc::SYS_mount, args).map(drop)
}

/// umount2(2). Async-signal-safe: does not allocate.
pub fn umount2(target: &CStr, flags: i32) -> SysResult {
    call(libc::SYS_umount2, [ptr(target), flags as usize, 0, 0, 0, 0]).map(drop)
}

/// chdir(2). Async-signal-safe: does not allocate.
pub fn chdir(path: &CStr) -> SysResult {
    call(libc::SYS_chdir, [ptr(path), 0, 0, 0, 0, 0]).map(drop)
}

/// pivot_root(2). Async-signal-safe: does not allocate.
pub fn pivot_root(new_root: &CStr, put_old: &CStr) -> SysResult {
    call(libc::SYS_pivot_root, [ptr(new_root), ptr(put_old), 0, 0, 0, 0]).map(drop)
}

/// sethostname(2). Async-signal-safe: does not allocate.
pub fn sethostname(name: &[u8]) -> SysResult {
    call(libc::SYS_sethostname, [name.as_ptr() as usize, name.len(), 0, 0, 0, 0]).map(drop)
}

/// setdomainname(2). Async-signal-safe: does not allocate.
pub fn setdomainname(name: &[u8]) -> SysResult {
    call(libc::SYS_setdomainname, [name.as_ptr() as usize, name.len(), 0, 0, 0, 0]).map(drop)
}

/// prlimit64(0, resource, new, NULL). Async-signal-safe: does not allocate.
pub fn setrlimit(resource: u32, soft: u64, hard: u64) -> SysResult {
    let limit = libc::rlimit64 { rlim_cur: soft, rlim_max: hard };
    let args = [0, resource as usize, &limit as *const libc::rlimit64 as usize, 0, 0, 0];
    call(libc::SYS_prlimit64, args).map(drop)
}

/// The hard RLIMIT_NOFILE, which bounds every open descriptor's number (65536 if it cannot
/// be read). Async-signal-safe: does not allocate.
pub fn nofile_hard() -> u64 {
    let mut limit = libc::rlimit64 { rlim_cur: 0, rlim_max: 0 };
    let args = [0, libc::RLIMIT_NOFILE as usize, 0, &mut limit as *mut libc::rlimit64 as usize, 0, 0];
    match call(libc::SYS_prlimit64, args) {
        Ok(_) => limit.rlim_max,
        Err(_) => 1 << 16,
    }
}

/// setgroups(2). Async-signal-safe: does not allocate.
pub fn setgroups(groups: &[libc::gid_t]) -> SysResult {
    call(libc::SYS_setgroups, [groups.len(), groups.as_ptr() as usize, 0, 0, 0, 0]).map(drop)
}

/// setresgid(gid, gid, gid). Async-signal-safe: does not allocate.
pub fn setgid(gid: libc::gid_t) -> SysResult {
    let g = gid as usize;
    call(libc::SYS_setresgid, [g, g, g, 0, 0, 0]).map(drop)
}

/// setresuid(uid, uid, uid). Async-signal-safe: does not allocate.
pub fn setuid(uid: libc::uid_t) -> SysResult {
    let u = uid as usize;
    call(libc::SYS_setresuid, [u, u, u, 0, 0, 0]).map(drop)
}

/// dup3(2). Async-signal-safe: does not allocate.
pub fn dup3(old: RawFd, new: RawFd, flags: i32) -> SysResult {
    call(libc::SYS_dup3, [old as usize, new as usize, flags as usize, 0, 0, 0]).map(drop)
}

/// close_range(2) (Linux 5.9). Async-signal-safe: does not allocate.
pub fn close_range(first: u32, last: u32, flags: u32) -> SysResult {
    let args = [first as usize, last as usize, flags as usize, 0, 0, 0];
    call(libc::SYS_close_range, args).map(drop)
}

/// Brings the loopback interface up in the current network namespace.
/// Async-signal-safe: does not allocate.
pub fn loopback_up() -> SysResult {
    let domain = libc::AF_INET as usize;
    let kind = (libc::SOCK_DGRAM | libc::SOCK_CLOEXEC) as usize;
    let sock = call(libc::SYS_socket, [domain, kind, 0, 0, 0, 0])? as RawFd;
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    req.ifr_ifru.ifru_flags = (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
    let req_ptr = &mut req as *mut libc::ifreq as usize;
    let result = call(libc::SYS_ioctl, [sock as usize, libc::SIOCSIFFLAGS as usize, req_ptr, 0, 0, 0]);
    let _ = close(sock);
    result.map(drop)
}

/// The kernel's `struct sigaction` for rt_sigaction on x86_64 and aarch64.
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// Resets every signal's disposition to the default and unblocks all signals.
/// The child inherited the parent's handlers, which point into memory it shares with the
/// parent, so none of them may run here. Async-signal-safe: does not allocate.
pub fn reset_signals() -> SysResult {
    let dfl = KernelSigaction { handler: libc::SIG_DFL, flags: 0, restorer: 0, mask: 0 };
    for sig in 1..=64usize {
        if sig == libc::SIGKILL as usize || sig == libc::SIGSTOP as usize {
            continue;
        }
        let args = [sig, &dfl as *const KernelSigaction as usize, 0, 8, 0, 0];
        call(libc::SYS_rt_sigaction, args)?;
    }
    Ok(())
}

/// Unblocks every signal. Async-signal-safe: does not allocate.
pub fn unblock_signals() -> SysResult {
    let empty: u64 = 0;
    let args = [libc::SIG_SETMASK as usize, &empty as *const u64 as usize, 0, 8, 0, 0];
    call(libc::SYS_rt_sigprocmask, args).map(drop)
}

/// execve(2); returns only on failure. Async-signal-safe: does not allocate.
pub fn execve(path: &CStr, argv: &CStrArray, envp: &CStrArray) -> Errno {
    let args = [ptr(path), argv.as_ptr() as usize, envp.as_ptr() as usize, 0, 0, 0];
    match call(libc::SYS_execve, args) {
        Err(errno) => errno,
        Ok(_) => Errno::UnknownErrno,
    }
}

/// `execveat(fd, "", argv, envp, AT_EMPTY_PATH)`: executes the file open at `fd` (isobox's
/// init). `argv` and `envp` are null-terminated arrays of pointers to NUL-terminated strings
/// that outlive the call. Returns only on failure. Async-signal-safe: does not allocate.
pub fn execveat_fd(fd: RawFd, argv: &[*const u8], envp: &[*const u8]) -> Errno {
    if argv.last().is_some_and(|p| !p.is_null()) || envp.last().is_some_and(|p| !p.is_null()) {
        return Errno::EINVAL; // not terminated: the kernel would read past the array
    }
    let empty = b"\0";
    let args = [fd as usize, empty.as_ptr() as usize, argv.as_ptr() as usize, envp.as_ptr() as usize, 0x1000, 0];
    match call(libc::SYS_execveat, args) {
        Err(errno) => errno,
        Ok(_) => Errno::UnknownErrno,
    }
}

/// Clears close-on-exec on `fd`. Async-signal-safe.
pub fn clear_cloexec(fd: RawFd) -> SysResult {
    call(libc::SYS_fcntl, [fd as usize, libc::F_SETFD as usize, 0, 0, 0, 0]).map(drop)
}
