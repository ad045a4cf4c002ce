//! Handing the listener over (**child** writes, **parent** reads): after installing a filter
//! with a listener the child announces the listener's descriptor number on the report pipe and
//! waits for one more go byte, sent once the parent holds a copy (pidfd_getfd). Only then does
//! it exec, so the listener (close-on-exec) never reaches the program and every notified call
//! of the program has someone to answer it.
//!
//! The message is 12 bytes like a failure record (so the parent reads one or the other whole:
//! both are atomic pipe writes) with a magic of its own: descriptor (i32), 0 (u32), magic.

use std::os::fd::RawFd;

use nix::errno::Errno;

use crate::sys::child as sys;

const MAGIC: u32 = 0x5ecc_0f1d;

/// The message's length, the same as a failure record's.
pub(crate) const MESSAGE_LEN: usize = 12;

/// The message announcing `listener`. Async-signal-safe: does not allocate.
fn encode(listener: RawFd) -> [u8; MESSAGE_LEN] {
    let mut out = [0u8; MESSAGE_LEN];
    out[..4].copy_from_slice(&listener.to_ne_bytes());
    out[8..].copy_from_slice(&MAGIC.to_ne_bytes());
    out
}

/// The listener's number in the child, if `bytes` is exactly the announcement.
pub(crate) fn decode(bytes: &[u8]) -> Option<RawFd> {
    let bytes: &[u8; MESSAGE_LEN] = bytes.try_into().ok()?;
    let word = |i: usize| [bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]];
    (u32::from_ne_bytes(word(8)) == MAGIC && u32::from_ne_bytes(word(4)) == 0)
        .then(|| RawFd::from_ne_bytes(word(0)))
        .filter(|fd| *fd >= 0)
}

/// **Child**: announces `listener` on `report_fd` and waits for the go byte on `go_fd` (EOF:
/// the parent could not take it, or died). Nothing without a listener. Makes only the two
/// calls the filter's prologue allows (`write(report_fd)`, `read(go_fd)`).
pub(crate) fn hand_over(listener: Option<RawFd>, report_fd: RawFd, go_fd: RawFd) -> Result<(), Errno> {
    let Some(listener) = listener else {
        return Ok(());
    };
    if sys::write(report_fd, &encode(listener))? != MESSAGE_LEN {
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
        assert_eq!(decode(&encode(7)), Some(7));
        assert_eq!(decode(&encode(7)[..11]), None);
        let mut other = encode(7);
        other[9] ^= 1;
        assert_eq!(decode(&other), None);
        assert_eq!(decode(&encode(-1)), None);
    }
}
