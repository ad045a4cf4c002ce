//! The setup-failure record the **child** writes on the report pipe and the **parent** decodes.
//!
//! 12 bytes, far below PIPE_BUF, so the write is atomic: step (u16), index (u16: which mount op
//! or rlimit), errno (i32), and a magic tag so that stray bytes are never taken for a record.

use nix::errno::Errno;

const MAGIC: u32 = 0x1503_b0c5;
pub(crate) const RECORD_LEN: usize = 12;

/// A named step of the child's setup.
///
/// Listed roughly in the order the child runs them, with two exceptions: `JoinCgroup` runs
/// right after `Rlimit` (and the second `WaitGo` on hosts where the child joins its cgroup
/// itself), before `Unshare` of the cgroup namespace and `Groups`; `Signals` runs after `Fds`
/// and `Chdir`, just before `Exec`. `WaitGo` and `Unshare` each occur at more than one point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
#[non_exhaustive]
pub enum Step {
    /// Waiting for the parent to release the child.
    WaitGo = 1,
    /// Arranging to die with the parent (PR_SET_PDEATHSIG).
    DeathSignal,
    /// Entering the cgroup or time namespace.
    Unshare,
    /// Writing the time namespace's clock offsets.
    TimeOffsets,
    /// One operation of the mount plan (the index says which).
    Mount,
    Hostname,
    Domainname,
    /// Bringing up the loopback interface of the new network namespace.
    Loopback,
    /// Setting one resource limit (the index says which).
    Rlimit,
    /// Setting the supplementary groups.
    Groups,
    /// Switching to the group id inside.
    Gid,
    /// Switching to the user id inside.
    Uid,
    /// Setting no_new_privs.
    NoNewPrivs,
    /// Resetting signal dispositions and the signal mask.
    Signals,
    /// Arranging stdio and passed descriptors; closing the rest on exec.
    Fds,
    /// Changing to the working directory.
    Chdir,
    /// Executing the program.
    Exec,
    /// Joining the sandbox's cgroup (the index says which hierarchy's directory).
    JoinCgroup,
}

const STEPS: [Step; 18] = [
    Step::WaitGo,
    Step::DeathSignal,
    Step::Unshare,
    Step::TimeOffsets,
    Step::Mount,
    Step::Hostname,
    Step::Domainname,
    Step::Loopback,
    Step::Rlimit,
    Step::Groups,
    Step::Gid,
    Step::Uid,
    Step::NoNewPrivs,
    Step::Signals,
    Step::Fds,
    Step::Chdir,
    Step::Exec,
    Step::JoinCgroup,
];

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

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Step::WaitGo => "waiting for the parent",
            Step::DeathSignal => "setting the parent-death signal",
            Step::Unshare => "entering the cgroup/time namespace",
            Step::TimeOffsets => "writing time namespace offsets",
            Step::Mount => "mount",
            Step::Hostname => "setting the hostname",
            Step::Domainname => "setting the NIS domain name",
            Step::Loopback => "bringing up loopback",
            Step::Rlimit => "rlimit",
            Step::Groups => "setting supplementary groups",
            Step::Gid => "switching group id",
            Step::Uid => "switching user id",
            Step::NoNewPrivs => "setting no_new_privs",
            Step::Signals => "resetting signals",
            Step::Fds => "arranging file descriptors",
            Step::Chdir => "changing directory",
            Step::Exec => "exec",
            Step::JoinCgroup => "joining the sandbox's cgroup",
        };
        f.write_str(name)
    }
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
