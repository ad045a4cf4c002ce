//! The command as isobox's waiter reads it (**parent**): the layout `src/sys/init/wait.rs`
//! documents, built from the command's [`ExecPlan`], and its sending over the waiter's socket.

use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, UnixAddr};

use crate::child::plan::ExecPlan;
use crate::child::step::Step;

const MAGIC: u32 = 0x15b0_c0de;
/// The holder's watch instead of a command (`src/sys/init/watch.rs`).
const WATCH_MAGIC: u32 = 0x15b0_3a7c;
/// The header's length; the descriptors travel with it.
pub(crate) const HEADER_LEN: usize = 64;
/// The most descriptors one pooled command may pass (the waiter's receive buffer).
pub(crate) const MAX_FDS: usize = 64;
/// The longest body the waiter reads (its buffer).
pub(crate) const BODY_MAX: usize = 1 << 20;
/// The most strings (candidates, arguments, environment) the waiter takes.
pub(crate) const MAX_STRINGS: usize = 65_536 - 4;

/// The message, and the descriptors to send with its header, in the order of their targets.
pub(crate) struct Message {
    pub bytes: Vec<u8>,
    pub fds: Vec<RawFd>,
}

/// Why a command does not fit the waiter's buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TooBig {
    Descriptors(usize),
    Strings(usize),
    Bytes(usize),
}

/// Encodes `exec` with the open-files limit the waiter sets after moving the descriptors, and
/// a held spawn's `gate`, sent as one more descriptor, put above the command's.
pub(crate) fn encode(exec: &ExecPlan, nofile: Option<(u64, u64)>, gate: Option<RawFd>) -> Result<Message, TooBig> {
    let (mut fds, mut targets): (Vec<RawFd>, Vec<RawFd>) = exec.fd_moves.iter().copied().unzip();
    let gate_target = gate.map(|fd| {
        let target = targets.iter().copied().max().unwrap_or(2).max(2) + 1;
        fds.push(fd);
        targets.push(target);
        target
    });
    if fds.len() > MAX_FDS {
        return Err(TooBig::Descriptors(fds.len()));
    }
    let mut body: Vec<u8> = targets.iter().flat_map(|t| t.to_ne_bytes()).collect();
    body.extend(exec.cwd.as_ref().map_or(&b""[..], |c| c.to_bytes()));
    body.push(0);
    let strings = exec.candidates.iter().map(|c| c.as_c_str()).chain(exec.argv.iter()).chain(exec.envp.iter());
    let mut count = 0;
    for s in strings {
        body.extend_from_slice(s.to_bytes_with_nul());
        count += 1;
    }
    if count > MAX_STRINGS {
        return Err(TooBig::Strings(count));
    }
    if body.len() > BODY_MAX {
        return Err(TooBig::Bytes(body.len()));
    }
    let argc = exec.argv.iter().count();
    let envc = exec.envp.iter().count();
    let (soft, hard) = nofile.unwrap_or((0, 0));
    let words = [
        MAGIC,
        body.len() as u32,
        fds.len() as u32,
        exec.candidates.len() as u32,
        argc as u32,
        envc as u32,
        Step::Fds as u32,
        Step::Chdir as u32,
        Step::Exec as u32,
        u32::from(nofile.is_some()),
        gate_target.map_or(0, |t| t as u32 + 1),
        0,
    ];
    let mut bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
    bytes.extend(soft.to_ne_bytes());
    bytes.extend(hard.to_ne_bytes());
    debug_assert_eq!(bytes.len(), HEADER_LEN);
    bytes.extend(body);
    Ok(Message { bytes, fds })
}

/// The message that arms a command-beside sandbox's holder (`pool/watch.rs`): no body, one
/// descriptor (the command's waiter's pidfd). `src/sys/init/hold.rs` and `watch.rs` mirror it.
pub(crate) fn watch(pidfd: RawFd) -> Message {
    let mut bytes = vec![0u8; HEADER_LEN];
    bytes[..4].copy_from_slice(&WATCH_MAGIC.to_ne_bytes());
    bytes[8..12].copy_from_slice(&1u32.to_ne_bytes());
    Message { bytes, fds: vec![pidfd] }
}

/// The whole message in one call where the socket takes it (one wake-up of the waiter), the
/// descriptors with its first byte; the rest, if any, after. Also the holder's watch
/// (`pool/watch.rs`).
pub(crate) fn send(sock: BorrowedFd<'_>, msg: &Message) -> io::Result<()> {
    let rights = [ControlMessage::ScmRights(&msg.fds)];
    let cmsgs: &[ControlMessage<'_>] = if msg.fds.is_empty() { &[] } else { &rights };
    let iov = [IoSlice::new(&msg.bytes)];
    let sent = loop {
        match sendmsg::<UnixAddr>(sock.as_raw_fd(), &iov, cmsgs, MsgFlags::MSG_NOSIGNAL, None) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => break other?,
        }
    };
    write_all(sock, &msg.bytes[sent..])
}

fn write_all(sock: BorrowedFd<'_>, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match nix::sys::socket::send(sock.as_raw_fd(), bytes, MsgFlags::MSG_NOSIGNAL) {
            Ok(n) => bytes = &bytes[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::ffi::CString;

    use super::*;
    use crate::sys::CStrArray;

    fn exec(moves: Vec<(RawFd, RawFd)>) -> ExecPlan {
        let c = |s: &str| CString::new(s).unwrap();
        ExecPlan {
            argv: CStrArray::new(vec![c("sh"), c("-c"), c("true")]),
            envp: CStrArray::new(vec![c("PATH=/bin")]),
            candidates: vec![c("/bin/sh")],
            cwd: Some(c("/tmp")),
            ids: Default::default(),
            fd_moves: moves,
        }
    }

    #[test]
    fn the_layout_is_header_targets_then_strings() {
        let m = encode(&exec(vec![(10, 0), (11, 1)]), Some((32, 64)), None).unwrap();
        assert_eq!(m.fds, [10, 11]);
        let word = |i: usize| u32::from_ne_bytes(m.bytes[i * 4..i * 4 + 4].try_into().unwrap());
        assert_eq!((word(0), word(2), word(3), word(4), word(5), word(9)), (MAGIC, 2, 1, 3, 1, 1));
        assert_eq!(word(1) as usize, m.bytes.len() - HEADER_LEN);
        assert_eq!(u64::from_ne_bytes(m.bytes[48..56].try_into().unwrap()), 32);
        let body = &m.bytes[HEADER_LEN..];
        assert_eq!(&body[..8], [0i32.to_ne_bytes(), 1i32.to_ne_bytes()].concat().as_slice());
        assert_eq!(&body[8..], b"/tmp\0/bin/sh\0sh\0-c\0true\0PATH=/bin\0");
    }

    #[test]
    fn too_many_descriptors_are_refused() {
        let moves = (0..65).map(|i| (100 + i, i)).collect();
        assert_eq!(encode(&exec(moves), None, None).err(), Some(TooBig::Descriptors(65)));
    }

    #[test]
    fn a_gate_goes_last_above_every_target() {
        let m = encode(&exec(vec![(10, 0), (11, 7)]), None, Some(12)).unwrap();
        assert_eq!(m.fds, [10, 11, 12]);
        let word = |i: usize| u32::from_ne_bytes(m.bytes[i * 4..i * 4 + 4].try_into().unwrap());
        assert_eq!((word(2), word(10)), (3, 9));
        let body = &m.bytes[HEADER_LEN..];
        assert_eq!(&body[8..12], 8i32.to_ne_bytes());
        let alone = encode(&exec(vec![]), None, Some(12)).unwrap();
        assert_eq!(u32::from_ne_bytes(alone.bytes[40..44].try_into().unwrap()), 4, "target 3: above stdio");
    }
}
