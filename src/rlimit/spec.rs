//! The resource limits a user asks for (**parent**: plain data, public).

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

    /// Every resource, in the order of their `RLIMIT_*` names.
    pub const ALL: [Resource; 16] = [
        Resource::AddressSpace,
        Resource::Core,
        Resource::Cpu,
        Resource::Data,
        Resource::FileSize,
        Resource::Locks,
        Resource::MemLock,
        Resource::MsgQueue,
        Resource::Nice,
        Resource::NoFile,
        Resource::NProc,
        Resource::Rss,
        Resource::RtPrio,
        Resource::RtTime,
        Resource::SigPending,
        Resource::Stack,
    ];

    /// The resource the kernel names `name` (`"RLIMIT_NOFILE"`), as [`Resource::name`] spells it.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Resource> {
        Resource::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The kernel's name, as in `prlimit --list`.
    #[must_use]
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
#[non_exhaustive]
pub struct Rlimit {
    /// The resource limited.
    pub resource: Resource,
    /// The limit the kernel enforces.
    pub soft: u64,
    /// The ceiling the soft limit may be raised to.
    pub hard: u64,
}

impl std::fmt::Display for Rlimit {
    /// `RLIMIT_NOFILE soft=64 hard=64`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} soft={} hard={}", self.resource.name(), self.soft, self.hard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Resource; 16] = Resource::ALL;

    #[test]
    fn every_resource_is_found_by_its_kernel_name() {
        for r in ALL {
            assert_eq!(Resource::from_name(r.name()), Some(r));
        }
        assert_eq!(Resource::from_name("RLIMIT_NOPE"), None);
    }

    /// Fails to compile when a variant is added, until it is added to `ALL` (and `label`).
    #[allow(dead_code)]
    fn all_is_complete(r: Resource) {
        match r {
            Resource::AddressSpace
            | Resource::Core
            | Resource::Cpu
            | Resource::Data
            | Resource::FileSize
            | Resource::Locks
            | Resource::MemLock
            | Resource::MsgQueue
            | Resource::Nice
            | Resource::NoFile
            | Resource::NProc
            | Resource::Rss
            | Resource::RtPrio
            | Resource::RtTime
            | Resource::SigPending
            | Resource::Stack => {}
        }
    }

    /// The row of /proc/self/limits (fs/proc/base.c) for the kernel's resource of this name.
    fn label(name: &str) -> &'static str {
        match name {
            "RLIMIT_CPU" => "Max cpu time",
            "RLIMIT_FSIZE" => "Max file size",
            "RLIMIT_DATA" => "Max data size",
            "RLIMIT_STACK" => "Max stack size",
            "RLIMIT_CORE" => "Max core file size",
            "RLIMIT_RSS" => "Max resident set",
            "RLIMIT_NPROC" => "Max processes",
            "RLIMIT_NOFILE" => "Max open files",
            "RLIMIT_MEMLOCK" => "Max locked memory",
            "RLIMIT_AS" => "Max address space",
            "RLIMIT_LOCKS" => "Max file locks",
            "RLIMIT_SIGPENDING" => "Max pending signals",
            "RLIMIT_MSGQUEUE" => "Max msgqueue size",
            "RLIMIT_NICE" => "Max nice priority",
            "RLIMIT_RTPRIO" => "Max realtime priority",
            "RLIMIT_RTTIME" => "Max realtime timeout",
            other => panic!("not a kernel resource name: {other}"),
        }
    }

    /// /proc/self/limits, one (label, soft, hard) per resource in the kernel's numbering,
    /// "unlimited" read as `u64::MAX`.
    fn proc_limits() -> Vec<(String, u64, u64)> {
        let text = std::fs::read_to_string("/proc/self/limits").unwrap();
        let value = |v: &str| if v == "unlimited" { u64::MAX } else { v.parse().unwrap() };
        text.lines()
            .skip(1)
            .map(|line| {
                // "%-25s %-20s %-20s %-10s": the label has spaces, the values do not.
                let (label, values) = line.split_at(26);
                let mut values = values.split_whitespace();
                (label.trim().to_string(), value(values.next().unwrap()), value(values.next().unwrap()))
            })
            .collect()
    }

    #[test]
    fn each_resource_has_the_number_the_kernel_gives_its_name() {
        let rows = proc_limits();
        assert_eq!(rows.len(), ALL.len(), "one variant per kernel resource: {rows:?}");
        for r in ALL {
            let row = rows.get(r.raw() as usize).map(|(label, ..)| label.as_str());
            assert_eq!(row, Some(label(r.name())), "{r:?}: raw {} and name {}", r.raw(), r.name());
        }
        let mut raws: Vec<u32> = ALL.iter().map(|r| r.raw()).collect();
        raws.sort_unstable();
        raws.dedup();
        assert_eq!(raws.len(), ALL.len(), "no two variants share a number");
    }

    #[test]
    fn limits_pass_unchanged_through_the_childs_setrlimit_with_max_as_unlimited() {
        // Sets each limit of this process to what it already is, through the call the child
        // makes: soft and hard in that order, u64::MAX for "unlimited".
        let before = proc_limits();
        for r in ALL {
            let (_, soft, hard) = before[r.raw() as usize];
            let set = crate::sys::child::setrlimit(r.raw(), soft, hard);
            assert!(set.is_ok(), "{}: setting ({soft}, {hard}): {set:?}", r.name());
        }
        assert_eq!(proc_limits(), before);
        assert!(before.iter().any(|(_, _, hard)| *hard == u64::MAX), "some limit is unlimited: {before:?}");
        // Soft above hard is refused: the two are not swapped on the way.
        let (_, soft, hard) = before[Resource::Core.raw() as usize];
        if soft < hard {
            assert!(crate::sys::child::setrlimit(Resource::Core.raw(), hard, soft).is_err());
            assert_eq!(proc_limits(), before);
        }
    }
}
