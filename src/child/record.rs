//! The setup-failure record the **child** writes on the report pipe and the **parent** decodes.
//!
//! 12 bytes, far below PIPE_BUF, so the write is atomic: step (u16), index (u16: which mount
//! op, rlimit, cgroup file or PATH candidate), errno (i32), and a magic tag so that stray
//! bytes are never taken for a record.

use nix::errno::Errno;

use super::step::{Step, STEPS};

const MAGIC: u32 = 0x1503_b0c5;
const RECORD_LEN: usize = 12;

/// A decoded failure record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Record {
    pub step: Step,
    pub index: u16,
    pub errno: Errno,
}

impl Record {
    /// Encodes the record. Async-signal-safe: does not allocate.
    pub fn encode(&self) -> [u8; RECORD_LEN] {
        let mut out = [0u8; RECORD_LEN];
        let (step, rest) = out.split_at_mut(2);
        let (index, rest) = rest.split_at_mut(2);
        let (errno, magic) = rest.split_at_mut(4);
        step.copy_from_slice(&(self.step as u16).to_ne_bytes());
        index.copy_from_slice(&self.index.to_ne_bytes());
        errno.copy_from_slice(&(self.errno as i32).to_ne_bytes());
        magic.copy_from_slice(&MAGIC.to_ne_bytes());
        out
    }

    /// Decodes what the parent read; `None` if it is not exactly one well-formed record.
    pub fn decode(bytes: &[u8]) -> Option<Record> {
        if bytes.len() != RECORD_LEN {
            return None;
        }
        let u16_at = |i: usize| u16::from_ne_bytes([bytes[i], bytes[i + 1]]);
        let u32_at = |i: usize| u32::from_ne_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        if u32_at(8) != MAGIC {
            return None;
        }
        let step = *STEPS.iter().find(|s| **s as u16 == u16_at(0))?;
        Some(Record { step, index: u16_at(2), errno: Errno::from_raw(u32_at(4) as i32) })
    }
}

/// A step without an object.
pub(crate) fn at(step: Step, result: Result<(), Errno>) -> Result<(), Record> {
    result.map_err(|errno| record(step, (0, errno)))
}

/// A step over a list (mount operations, rlimits, cgroup files, capabilities): the failure
/// says which.
pub(crate) fn each(step: Step, result: Result<(), (usize, Errno)>) -> Result<(), Record> {
    result.map_err(|failed| record(step, failed))
}

pub(crate) fn record(step: Step, (index, errno): (usize, Errno)) -> Record {
    // A list longer than u16 (some 10,000 mounts) names its last index rather than a wrong one.
    Record { step, index: u16::try_from(index).unwrap_or(u16::MAX), errno }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_round_trips() {
        for (i, step) in STEPS.iter().enumerate() {
            let rec = Record { step: *step, index: i as u16, errno: Errno::EACCES };
            assert_eq!(Record::decode(&rec.encode()), Some(rec));
        }
    }

    #[test]
    fn wrong_length_or_magic_is_rejected() {
        let rec = Record { step: Step::Mount, index: 2, errno: Errno::ENOENT }.encode();
        assert_eq!(Record::decode(&rec[..11]), None);
        let mut bad = rec;
        bad[9] ^= 0xff;
        assert_eq!(Record::decode(&bad), None);
        let mut unknown_step = rec;
        unknown_step[0] = 0xee;
        assert_eq!(Record::decode(&unknown_step), None);
    }
}
