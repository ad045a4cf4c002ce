//! Handing the listener over (**child** writes, **parent** reads): after installing a filter
//! with a listener the child announces the listener's descriptor number on the report pipe and
//! waits for one more go byte, sent once the parent holds a copy (pidfd_getfd). Only then does
//! it exec, so the listener (close-on-exec) never reaches the program and every notified call
//! of the program has someone to answer it.
//!
//! The message is 12 bytes like a failure record (so the parent reads one or the other whole:
//! both are atomic pipe writes) with a magic of its own: descriptor (i32), holder (u32),
//! magic. The holder is 0 when the listener is the first process's, else one more than the
//! number at which the first process (isobox's init) keeps a pidfd of the program that
//! holds it.

use std::os::fd::RawFd;

use nix::errno::Errno;

use crate::sys::child as sys;

const MAGIC: u32 = 0x5ecc_0f1d;

/// The message's length, the same as a failure record's.
pub(crate) const MESSAGE_LEN: usize = 12;

/// Where the listener is: its number, and the number of the first process's pidfd for the
/// program holding it (`None`: the first process holds it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Announcement {
    pub listener: RawFd,
    pub holder_pidfd: Option<RawFd>,
}

/// The message announcing `a`. Async-signal-safe: does not allocate.
fn encode(a: Announcement) -> [u8; MESSAGE_LEN] {
    let mut out = [0u8; MESSAGE_LEN];
    out[..4].copy_from_slice(&a.listener.to_ne_bytes());
    let holder = a.holder_pidfd.map_or(0, |fd| (fd as u32).wrapping_add(1));
    out[4..8].copy_from_slice(&holder.to_ne_bytes());
    out[8..].copy_from_slice(&MAGIC.to_ne_bytes());
    out
}

/// The announcement, if `bytes` is exactly one.
pub(crate) fn decode(bytes: &[u8]) -> Option<Announcement> {
    let bytes: &[u8; MESSAGE_LEN] = bytes.try_into().ok()?;
    let word = |i: usize| [bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]];
    if u32::from_ne_bytes(word(8)) != MAGIC {
        return None;
    }
    let listener = RawFd::from_ne_bytes(word(0));
    let holder = u32::from_ne_bytes(word(4));
    let holder_pidfd = match holder {
        0 => None,
        n => Some(RawFd::try_from(n - 1).ok()?),
    };
    (listener >= 0).then_some(Announcement { listener, holder_pidfd })
}

/// **Child**: announces `listener` (held by the process `holder_pidfd` names, if any) on
/// `report_fd` and waits for the go byte on `go_fd` (EOF: the parent could not take it, or
/// died). Nothing without a listener. Makes only the two calls the filter's prologue allows
/// (`write(report_fd)`, `read(go_fd)`).
pub(crate) fn hand_over(
    listener: Option<RawFd>,
    holder_pidfd: Option<RawFd>,
    report_fd: RawFd,
    go_fd: RawFd,
) -> Result<(), Errno> {
    let Some(listener) = listener else {
        return Ok(());
    };
    if sys::write(report_fd, &encode(Announcement { listener, holder_pidfd }))? != MESSAGE_LEN {
        return Err(Errno::EPIPE);
    }
    let mut byte = [0u8; 1];
    match sys::read(go_fd, &mut byte)? {
        1 => Ok(()),
        _ => Err(Errno::EPIPE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_announcement_round_trips_and_is_no_record() {
        let own = Announcement { listener: 7, holder_pidfd: None };
        let held = Announcement { listener: 7, holder_pidfd: Some(0) };
        assert_eq!(decode(&encode(own)), Some(own));
        assert_eq!(decode(&encode(held)), Some(held));
        assert_eq!(decode(&encode(own)[..11]), None);
        let mut other = encode(own);
        other[9] ^= 1;
        assert_eq!(decode(&other), None);
        assert_eq!(decode(&encode(Announcement { listener: -1, holder_pidfd: None })), None);
    }
}
