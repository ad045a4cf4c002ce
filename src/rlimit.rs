//! Resource limits set in the child before exec (**parent**: plain data).

/// A resource limited by setrlimit(2). Limits are applied in the order given to the builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Resource {
    /// Address space size in bytes (RLIMIT_AS).
    AddressSpace,
    /// Core file size in bytes (RLIMIT_CORE).
    Core,
    /// CPU time in seconds (RLIMIT_CPU).
    Cpu,
    /// Data segment size in bytes (RLIMIT_DATA).
    Data,
    /// Largest file the process may create, in bytes (RLIMIT_FSIZE).
    FileSize,
    /// File locks (RLIMIT_LOCKS).
    Locks,
    /// Locked memory in bytes (RLIMIT_MEMLOCK).
    MemLock,
    /// POSIX message queue bytes (RLIMIT_MSGQUEUE).
    MsgQueue,
    /// Nice ceiling (RLIMIT_NICE).
    Nice,
    /// Open file descriptors (RLIMIT_NOFILE).
    NoFile,
    /// Processes of the real user id (RLIMIT_NPROC).
    NProc,
    /// Resident set size (RLIMIT_RSS; not enforced by Linux).
    Rss,
    /// Real-time priority ceiling (RLIMIT_RTPRIO).
    RtPrio,
    /// Real-time CPU time in microseconds (RLIMIT_RTTIME).
    RtTime,
    /// Queued signals (RLIMIT_SIGPENDING).
    SigPending,
    /// Stack size in bytes (RLIMIT_STACK).
    Stack,
}

impl Resource {
    pub(crate) fn raw(self) -> u32 {
        let raw = match self {
            Resource::AddressSpace => libc::RLIMIT_AS,
            Resource::Core => libc::RLIMIT_CORE,
            Resource::Cpu => libc::RLIMIT_CPU,
            Resource::Data => libc::RLIMIT_DATA,
            Resource::FileSize => libc::RLIMIT_FSIZE,
            Resource::Locks => libc::RLIMIT_LOCKS,
            Resource::MemLock => libc::RLIMIT_MEMLOCK,
            Resource::MsgQueue => libc::RLIMIT_MSGQUEUE,
            Resource::Nice => libc::RLIMIT_NICE,
            Resource::NoFile => libc::RLIMIT_NOFILE,
            Resource::NProc => libc::RLIMIT_NPROC,
            Resource::Rss => libc::RLIMIT_RSS,
            Resource::RtPrio => libc::RLIMIT_RTPRIO,
            Resource::RtTime => libc::RLIMIT_RTTIME,
            Resource::SigPending => libc::RLIMIT_SIGPENDING,
            Resource::Stack => libc::RLIMIT_STACK,
        };
        // The constants are u32 on glibc but i32 on musl.
        #[allow(clippy::unnecessary_cast)]
        let raw = raw as u32;
        raw
    }

    /// The kernel's name, as in `prlimit --list`.
    pub fn name(self) -> &'static str {
        match self {
            Resource::AddressSpace => "RLIMIT_AS",
            Resource::Core => "RLIMIT_CORE",
            Resource::Cpu => "RLIMIT_CPU",
            Resource::Data => "RLIMIT_DATA",
            Resource::FileSize => "RLIMIT_FSIZE",
            Resource::Locks => "RLIMIT_LOCKS",
            Resource::MemLock => "RLIMIT_MEMLOCK",
            Resource::MsgQueue => "RLIMIT_MSGQUEUE",
            Resource::Nice => "RLIMIT_NICE",
            Resource::NoFile => "RLIMIT_NOFILE",
            Resource::NProc => "RLIMIT_NPROC",
            Resource::Rss => "RLIMIT_RSS",
            Resource::RtPrio => "RLIMIT_RTPRIO",
            Resource::RtTime => "RLIMIT_RTTIME",
            Resource::SigPending => "RLIMIT_SIGPENDING",
            Resource::Stack => "RLIMIT_STACK",
        }
    }
}

/// A soft and hard limit for one resource. `u64::MAX` is RLIM_INFINITY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rlimit {
    pub resource: Resource,
    pub soft: u64,
    pub hard: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_values_match_the_kernel() {
        assert_eq!(Resource::NoFile.raw(), 7);
        assert_eq!(Resource::AddressSpace.raw(), 9);
        assert_eq!(Resource::NoFile.name(), "RLIMIT_NOFILE");
        assert_eq!(libc::RLIM_INFINITY, u64::MAX);
    }
}
