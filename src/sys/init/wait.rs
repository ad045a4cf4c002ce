//! The waiter: a pooled sandbox's program until the command arrives. Everything else is set
//! up (namespaces, mounts, ids, capabilities, limits, the filter); this waits on a socket for
//! the command, puts the descriptors that came with it in place, changes directory and
//! executes it. On success exec closes the socket (close-on-exec): the parent reads EOF. On
//! failure it writes a 12-byte failure record (the library's format) and exits with 127.
//!
//! The message (native endian), mirrored by the library's `pool/message.rs`:
//! - a 64-byte header of u32 words: magic, body length, descriptors, PATH candidates, argc,
//!   envc, the step numbers to report for descriptors, chdir and exec, whether to set the
//!   open-files limit, the gate (0: none, else its target descriptor + 1), a reserved word;
//!   then that limit's soft and hard values (u64);
//! - the body: one i32 target per descriptor, then NUL-terminated strings: the working
//!   directory (empty: none), the candidates, the arguments, the environment.
//!
//! The descriptors arrive with the header (SCM_RIGHTS), in the order of their targets. A
//! header of `watch::MAGIC` is no command: see `watch.rs`.
//!
//! A held spawn's command (`Sandbox::spawn_held`) names a gate, one of its descriptors: once
//! everything but the exec is done, the waiter writes a 12-byte held record on the socket and
//! reads one byte from the gate, then closes it and executes; EOF there (every writer gone)
//! is a failure (ECANCELED) and no exec.

use crate::buf;
use crate::sys::{self, nr2};

const MAGIC: u32 = 0x15b0_c0de;
const RECORD_MAGIC: u32 = 0x1503_b0c5;
/// The held record's magic (mirrored by the library's `held.rs`).
const HELD_MAGIC: u32 = 0x1503_4e1d;
pub const HEADER_LEN: usize = 64;
pub const MAX_FDS: usize = 64;
const BODY_MAX: usize = 1 << 20;
const MAX_STRINGS: usize = 65_536;
const O_CLOEXEC: usize = 0o2_000_000;
const MSG_CMSG_CLOEXEC: usize = 0x4000_0000;
const ENOENT: isize = -2;
const ENOTDIR: isize = -20;
const EACCES: isize = -13;
const EBADMSG: isize = -74;
const E2BIG: isize = -7;
const EMFILE: isize = -24;
const EINTR: isize = -4;
const ECANCELED: isize = -125;


/// What a failure reports: the step numbers the header named.
#[derive(Clone, Copy)]
struct Steps {
    fds: u16,
    chdir: u16,
    exec: u16,
}

pub fn serve(sock: usize) -> ! {
    // Named for `ps` until the command's exec names it (from a memfd: "memfd:isobox-in").
    sys::call(sys::nr::PRCTL, [15 /* PR_SET_NAME */, b"isobox-wait\0".as_ptr() as usize, 0, 0, 0, 0]);
    // Until the command arrives, nothing but the socket stays open.
    close_gaps(&[sock as i32]);
    let spare = buf::spare();
    let mut header = [0u8; HEADER_LEN];
    let mut fds = [-1i32; MAX_FDS];
    let (received, early) = receive(sock, &mut header, &mut fds, spare);
    let word = |i: usize| u32::from_ne_bytes([header[i * 4], header[i * 4 + 1], header[i * 4 + 2], header[i * 4 + 3]]);
    let steps = Steps { fds: word(6) as u16, chdir: word(7) as u16, exec: word(8) as u16 };
    let (body_len, n_fds) = (word(1) as usize, word(2) as usize);
    if crate::watch::is_watch(&header, received, early) {
        crate::watch::serve(sock, fds[0])
    }
    if word(0) != MAGIC || body_len > BODY_MAX || early > body_len {
        fail(sock, steps.exec, 0, if body_len > BODY_MAX { E2BIG } else { EBADMSG });
    }
    if n_fds != received {
        // The kernel drops what does not fit under the open-files limit (MSG_CTRUNC).
        fail(sock, steps.fds, 0, EMFILE);
    }
    let (body, room) = body(sock, spare, body_len, early).unwrap_or_else(|e| fail(sock, steps.exec, 0, e));
    let mut targets = [0i32; MAX_FDS];
    for (i, t) in targets.iter_mut().take(n_fds).enumerate() {
        let at = i * 4;
        *t = i32::from_ne_bytes([body[at], body[at + 1], body[at + 2], body[at + 3]]);
    }
    let counts = (word(3) as usize, word(4) as usize, word(5) as usize);
    let nofile = (word(9) != 0).then(|| (u64_at(&header, 48), u64_at(&header, 56)));
    let gate = (word(10) as usize).checked_sub(1);
    let limits = Limits { nofile, gate };
    run(sock, steps, &fds[..n_fds], &targets[..n_fds], (&body[n_fds * 4..], room), counts, limits)
}

/// The whole body: the `early` bytes that came with the header into `spare`, and the rest
/// read after them, in `spare` if it fits (then also the rest of `spare`, for the pointers),
/// else in new memory. `Err`: an errno (EBADMSG for a body cut short).
fn body(
    sock: usize,
    spare: &'static mut [u8],
    len: usize,
    early: usize,
) -> Result<(&'static mut [u8], &'static mut [u8]), isize> {
    let (body, room) = if len <= spare.len() {
        buf::after(spare, len)
    } else {
        let body = buf::map_bytes(len)?;
        body[..early].copy_from_slice(&spare[..early]);
        (body, &mut spare[..0])
    };
    if !read_exact(sock, &mut body[early..]) {
        return Err(EBADMSG);
    }
    Ok((body, room))
}

/// What the waiter does between the descriptors and the exec.
struct Limits {
    /// The open-files limit to set, soft and hard.
    nofile: Option<(u64, u64)>,
    /// A held spawn's gate: its descriptor (one of the targets).
    gate: Option<usize>,
}

fn run(
    sock: usize,
    steps: Steps,
    fds: &[i32],
    targets: &[i32],
    (strings, room): (&[u8], &'static mut [u8]),
    (n_cand, argc, envc): (usize, usize, usize),
    Limits { nofile, gate }: Limits,
) -> ! {
    let total = 1 + n_cand + argc + 1 + envc + 1;
    if total > MAX_STRINGS {
        fail(sock, steps.exec, 0, E2BIG);
    }
    let ptrs = buf::pointers(room, total).unwrap_or_else(|e| fail(sock, steps.exec, 0, e));
    // cwd, candidates, argv (null-terminated), envp (null-terminated).
    let mut next = 0;
    let mut fill = |slot: usize, ptrs: &mut [*const u8]| -> bool {
        if next >= strings.len() {
            return false;
        }
        ptrs[slot] = strings[next..].as_ptr();
        match strings[next..].iter().position(|b| *b == 0) {
            Some(len) => {
                next += len + 1;
                true
            }
            None => false,
        }
    };
    let layout_ok = (0..1 + n_cand + argc).all(|i| fill(i, ptrs))
        && (1 + n_cand + argc + 1..total - 1).all(|i| fill(i, ptrs));
    if !layout_ok {
        fail(sock, steps.exec, 0, EBADMSG);
    }
    ptrs[1 + n_cand + argc] = core::ptr::null();
    ptrs[total - 1] = core::ptr::null();
    let sock = arrange(sock, fds, targets).unwrap_or_else(|e| fail(sock, steps.fds, 0, e));
    if let Some((soft, hard)) = nofile {
        let limit = [soft, hard];
        let r = sys::call(nr2::PRLIMIT64, [0, 7 /* RLIMIT_NOFILE */, limit.as_ptr() as usize, 0, 0, 0]);
        if r < 0 {
            fail(sock, steps.fds, 0, r);
        }
    }
    // SAFETY: ptrs[0] points to the NUL-terminated working directory in the body.
    if unsafe { *ptrs[0] } != 0 {
        let r = sys::call(nr2::CHDIR, [ptrs[0] as usize, 0, 0, 0, 0, 0]);
        if r < 0 {
            fail(sock, steps.chdir, 0, r);
        }
    }
    if let Some(gate) = gate {
        // As a spawn does, a program that is not there fails before it is held.
        if let Err((index, errno)) = find_candidate(&ptrs[1..1 + n_cand]) {
            fail(sock, steps.exec, index, errno);
        }
        hold_at_gate(sock, gate, steps.exec);
    }
    let (argv, envp) = (ptrs[1 + n_cand..].as_ptr(), ptrs[1 + n_cand + argc + 1..].as_ptr());
    let (index, errno) = exec_candidates(&ptrs[1..1 + n_cand], argv, envp);
    fail(sock, steps.exec, index, errno)
}

/// Whether one of the candidates is a file this process may execute (the exec's choice, as
/// far as `faccessat` can tell): `Err` as `exec_candidates` would fail.
fn find_candidate(candidates: &[*const u8]) -> Result<(), (u16, isize)> {
    const AT_FDCWD: isize = -100;
    const X_OK: usize = 1;
    let (mut not_found, mut denied) = ((0u16, ENOENT), None);
    for (i, path) in candidates.iter().enumerate() {
        let index = i.min(u16::MAX as usize) as u16;
        match sys::call(nr2::FACCESSAT, [AT_FDCWD as usize, *path as usize, X_OK, 0, 0, 0]) {
            0 => return Ok(()),
            ENOENT | ENOTDIR => not_found = (index, ENOENT),
            EACCES => denied = denied.or(Some((index, EACCES))),
            errno => return Err((index, errno)),
        }
    }
    Err(denied.unwrap_or(not_found))
}

/// A held spawn: says so on the socket, then waits for one byte on the gate and closes it.
fn hold_at_gate(sock: usize, gate: usize, exec_step: u16) {
    let record = record(0, 0, 0, HELD_MAGIC);
    if sys::call(sys::nr::WRITE, [sock, record.as_ptr() as usize, record.len(), 0, 0, 0]) != record.len() as isize {
        sys::exit(127); // the caller is gone, or its end of the socket closed: it cannot start this
    }
    let mut byte = [0u8; 1];
    let got = loop {
        match sys::call(nr2::READ, [gate, byte.as_mut_ptr() as usize, 1, 0, 0, 0]) {
            EINTR => continue,
            r => break r,
        }
    };
    if got != 1 {
        fail(sock, exec_step, 0, if got == 0 { ECANCELED } else { got });
    }
    sys::call(sys::nr::CLOSE, [gate, 0, 0, 0, 0, 0]);
}

/// Like the library's `child::exec`: a missing file moves on, EACCES is kept unless something
/// better turns up, anything else stops.
fn exec_candidates(candidates: &[*const u8], argv: *const *const u8, envp: *const *const u8) -> (u16, isize) {
    let (mut not_found, mut denied) = ((0u16, ENOENT), None);
    for (i, path) in candidates.iter().enumerate() {
        let index = i.min(u16::MAX as usize) as u16;
        match sys::call(nr2::EXECVE, [*path as usize, argv as usize, envp as usize, 0, 0, 0]) {
            ENOENT | ENOTDIR => not_found = (index, ENOENT),
            EACCES => denied = denied.or(Some((index, EACCES))),
            errno => return (index, errno),
        }
    }
    denied.unwrap_or(not_found)
}

/// Puts `fds[i]` at `targets[i]` (every source first copied above all numbers in play, so
/// none is overwritten before it moves), moves the socket above them too and closes the rest.
/// Returns the socket's new number (close-on-exec).
fn arrange(sock: usize, fds: &[i32], targets: &[i32]) -> Result<usize, isize> {
    let top = fds.iter().chain(targets).copied().fold(sock as i32, i32::max);
    let scratch = top as usize + 1;
    let moved_sock = dup3(sock, scratch + fds.len(), O_CLOEXEC)?;
    for (i, fd) in fds.iter().enumerate() {
        dup3(*fd as usize, scratch + i, O_CLOEXEC)?;
    }
    for (i, target) in targets.iter().enumerate() {
        dup3(scratch + i, *target as usize, 0)?;
    }
    let mut keep = [0i32; MAX_FDS + 1];
    keep[..targets.len()].copy_from_slice(targets);
    keep[targets.len()] = moved_sock as i32;
    let keep = &mut keep[..targets.len() + 1];
    keep.sort_unstable();
    close_gaps(keep);
    Ok(moved_sock)
}

fn dup3(from: usize, to: usize, flags: usize) -> Result<usize, isize> {
    let r = sys::call(nr2::DUP3, [from, to, flags, 0, 0, 0]);
    if r < 0 {
        Err(r)
    } else {
        Ok(r as usize)
    }
}

/// Closes every descriptor but those in `keep` (ascending; repeats allowed).
pub fn close_gaps(keep: &[i32]) {
    let mut first: usize = 0;
    for fd in keep.iter().filter(|fd| **fd >= 0).map(|fd| *fd as usize) {
        if fd > first {
            close_range(first, fd - 1);
        }
        first = first.max(fd + 1);
    }
    close_range(first, u32::MAX as usize);
}

/// close_range(2), or, where the sandbox's filter refuses it (an OCI profile older than
/// Linux 5.9's call), `close` on each number up to the open-files limit's hard value.
fn close_range(first: usize, last: usize) {
    if sys::call(nr2::CLOSE_RANGE, [first, last, 0, 0, 0, 0]) == 0 {
        return;
    }
    let mut limit = [0u64; 2];
    let top = match sys::call(nr2::PRLIMIT64, [0, 7 /* RLIMIT_NOFILE */, 0, limit.as_mut_ptr() as usize, 0, 0]) {
        0 => limit[1].min(1 << 20) as usize,
        _ => 1 << 16,
    };
    for fd in first..=last.min(top) {
        sys::call(sys::nr::CLOSE, [fd, 0, 0, 0, 0, 0]);
    }
}

/// Reads the header, collecting the descriptors that come with it, and whatever of the body
/// comes with it into `spare`. Returns how many descriptors came, and how many body bytes.
/// EOF before any byte: the pool is gone, exit quietly.
pub fn receive(sock: usize, header: &mut [u8; HEADER_LEN], fds: &mut [i32; MAX_FDS], spare: &mut [u8]) -> (usize, usize) {
    let (mut got, mut early, mut received) = (0, 0, 0);
    while got < HEADER_LEN {
        let mut control = [0u64; (16 + 4 * MAX_FDS) / 8];
        let room = &mut spare[early..];
        let iov = [header[got..].as_mut_ptr() as usize, HEADER_LEN - got, room.as_mut_ptr() as usize, room.len()];
        // struct msghdr: name, namelen, iov, iovlen, control, controllen, flags.
        let mut msg = [0usize; 7];
        msg[2] = iov.as_ptr() as usize;
        msg[3] = if room.is_empty() { 1 } else { 2 };
        msg[4] = control.as_mut_ptr() as usize;
        msg[5] = core::mem::size_of_val(&control);
        let r = sys::call(nr2::RECVMSG, [sock, msg.as_mut_ptr() as usize, MSG_CMSG_CLOEXEC, 0, 0, 0]);
        if r == 0 && got == 0 {
            sys::exit(0);
        }
        if r <= 0 {
            fail(sock, 0, 0, if r == 0 { EBADMSG } else { r });
        }
        let to_header = (r as usize).min(HEADER_LEN - got);
        got += to_header;
        early += r as usize - to_header;
        received += take_fds(&control, msg[5], &mut fds[received..]);
    }
    (received, early)
}

/// The descriptors of an SCM_RIGHTS message in `control` (of `len` bytes), into `out`.
fn take_fds(control: &[u64], len: usize, out: &mut [i32]) -> usize {
    // struct cmsghdr: len (usize), level (i32), type (i32), then the data.
    // SAFETY: `control` is a live buffer of at least `len` bytes (the kernel wrote `len`).
    let bytes = unsafe { core::slice::from_raw_parts(control.as_ptr() as *const u8, len.min(control.len() * 8)) };
    if bytes.len() < 16 {
        return 0;
    }
    let cmsg_len = usize::from_ne_bytes(bytes[..8].try_into().unwrap_or([0; 8]));
    let level = i32::from_ne_bytes(bytes[8..12].try_into().unwrap_or([0; 4]));
    let kind = i32::from_ne_bytes(bytes[12..16].try_into().unwrap_or([0; 4]));
    if level != 1 || kind != 1 || cmsg_len < 16 || cmsg_len > bytes.len() {
        return 0; // SOL_SOCKET, SCM_RIGHTS only
    }
    let n = ((cmsg_len - 16) / 4).min(out.len());
    for (i, slot) in out.iter_mut().take(n).enumerate() {
        let at = 16 + i * 4;
        *slot = i32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap_or([0xff; 4]));
    }
    n
}

fn read_exact(fd: usize, buf: &mut [u8]) -> bool {
    let mut got = 0;
    while got < buf.len() {
        let r = sys::call(nr2::READ, [fd, buf[got..].as_mut_ptr() as usize, buf.len() - got, 0, 0, 0]);
        if r <= 0 {
            return false;
        }
        got += r as usize;
    }
    true
}

fn u64_at(header: &[u8; HEADER_LEN], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&header[at..at + 8]);
    u64::from_ne_bytes(word)
}

/// Writes the failure record on the socket and exits with 127.
fn fail(sock: usize, step: u16, index: u16, errno: isize) -> ! {
    let record = record(step, index, errno, RECORD_MAGIC);
    sys::call(sys::nr::WRITE, [sock, record.as_ptr() as usize, record.len(), 0, 0, 0]);
    sys::exit(127)
}

/// A 12-byte record: step, index, errno (positive), magic.
fn record(step: u16, index: u16, errno: isize, magic: u32) -> [u8; 12] {
    let mut record = [0u8; 12];
    record[..2].copy_from_slice(&step.to_ne_bytes());
    record[2..4].copy_from_slice(&index.to_ne_bytes());
    record[4..8].copy_from_slice(&((-errno) as i32).to_ne_bytes());
    record[8..].copy_from_slice(&magic.to_ne_bytes());
    record
}
