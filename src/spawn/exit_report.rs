//! How a sandbox ended (**parent**): its status, its time, what it used, and one line of it
//! for people.

use std::fmt;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

use crate::cgroup::stats::CgroupStats;
use crate::signal::Signal;

/// How a sandbox ended and what it used.
///
/// Its `Display` is one line, such as `exited with 0 after 19.7 ms (peak 3.1 MiB, 2.0 ms CPU)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExitReport {
    /// Exit code or terminating signal, as std reports it.
    pub status: ExitStatus,
    /// From just before the clone to the reaping of the process.
    pub wall_time: Duration,
    /// getrusage figures of the process and its waited-for descendants.
    pub usage: ResourceUsage,
    /// What the whole sandbox used, from its cgroup (`None` when it had none: a cgroup comes
    /// with any limit or with [`cgroup_parent`](crate::SandboxBuilder::cgroup_parent)).
    pub cgroup: Option<CgroupStats>,
}

impl ExitReport {
    /// Whether the program exited with 0.
    #[must_use]
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// The exit code, if the program exited (rather than being killed by a signal).
    #[must_use]
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// The number of the signal that killed the program, if one did.
    #[must_use]
    pub fn signal(&self) -> Option<i32> {
        self.status.signal()
    }

    /// Whether the program was killed by SIGSYS: what a seccomp filter's KILL (and, unhandled,
    /// TRAP) verdict delivers. Another process sending SIGSYS would look the same.
    #[must_use]
    pub fn killed_by_seccomp(&self) -> bool {
        self.status.signal() == Some(libc::SIGSYS)
    }

    /// CPU time of the whole sandbox (its cgroup's, else the first process and its waited-for
    /// descendants).
    fn cpu_time(&self) -> Duration {
        match self.cgroup {
            Some(CgroupStats { cpu_user: Some(user), cpu_system: Some(system), .. }) => user + system,
            _ => self.usage.user_time + self.usage.system_time,
        }
    }
}

impl fmt::Display for ExitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.status.code(), self.status.signal().and_then(Signal::new)) {
            (Some(code), _) => write!(f, "exited with {code}")?,
            (None, Some(signal)) if self.killed_by_seccomp() => write!(f, "killed by {signal} (seccomp filter)")?,
            (None, Some(signal)) => write!(f, "killed by {signal}")?,
            (None, None) => write!(f, "ended with wait status {:#x}", self.status.into_raw())?,
        }
        if self.status.core_dumped() {
            f.write_str(" (core dumped)")?;
        }
        write!(f, " after {} (", duration(self.wall_time))?;
        // Peak memory only from a cgroup: wait4's max RSS counts the parent's memory too.
        if let Some(peak) = self.cgroup.and_then(|c| c.memory_peak_bytes) {
            write!(f, "peak {}, ", bytes(peak))?;
        }
        write!(f, "{} CPU", duration(self.cpu_time()))?;
        match self.cgroup.and_then(|c| c.oom_kills) {
            Some(1) => f.write_str(", 1 OOM kill")?,
            Some(n) if n > 1 => write!(f, ", {n} OOM kills")?,
            _ => {}
        }
        f.write_str(")")
    }
}

/// "850 µs", "19.7 ms", "2.31 s".
fn duration(d: Duration) -> String {
    let us = d.as_micros();
    match us {
        0..=999 => format!("{us} µs"),
        1_000..=999_999 => format!("{:.1} ms", us as f64 / 1e3),
        _ => format!("{:.2} s", d.as_secs_f64()),
    }
}

/// "512 B", "3.1 MiB".
fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Resource usage reported by wait4(2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ResourceUsage {
    /// CPU time in user mode.
    pub user_time: Duration,
    /// CPU time in the kernel.
    pub system_time: Duration,
    /// Peak resident set size in bytes, as wait4 reports it. Linux charges the address space
    /// a process had before exec to it, and isobox's child shares the parent's until exec, so
    /// this is at least the parent's own peak at spawn time: it measures the program only when
    /// the program is larger than its parent.
    pub max_rss_bytes: u64,
    /// Page faults served without IO.
    pub minor_faults: u64,
    /// Page faults that needed IO.
    pub major_faults: u64,
    /// Times the process gave up the CPU to wait.
    pub voluntary_context_switches: u64,
    /// Times the process was preempted.
    pub involuntary_context_switches: u64,
}

impl ResourceUsage {
    /// From a `struct rusage` as 18 words (x86_64 and aarch64 Linux): two timevals, then
    /// maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock, msgsnd, msgrcv,
    /// nsignals, nvcsw, nivcsw. What isobox's init sends of the program.
    pub(crate) fn from_words(w: &[i64; 18]) -> ResourceUsage {
        let time = |sec: i64, usec: i64| Duration::new(sec.max(0) as u64, (usec.clamp(0, 999_999) as u32) * 1000);
        let count = |n: i64| n.max(0) as u64;
        ResourceUsage {
            user_time: time(w[0], w[1]),
            system_time: time(w[2], w[3]),
            max_rss_bytes: count(w[4]).saturating_mul(1024),
            minor_faults: count(w[8]),
            major_faults: count(w[9]),
            voluntary_context_switches: count(w[16]),
            involuntary_context_switches: count(w[17]),
        }
    }

    pub(crate) fn from_rusage(r: &libc::rusage) -> ResourceUsage {
        let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32).saturating_mul(1000));
        ResourceUsage {
            user_time: time(r.ru_utime),
            system_time: time(r.ru_stime),
            max_rss_bytes: (r.ru_maxrss as u64).saturating_mul(1024),
            minor_faults: r.ru_minflt as u64,
            major_faults: r.ru_majflt as u64,
            voluntary_context_switches: r.ru_nvcsw as u64,
            involuntary_context_switches: r.ru_nivcsw as u64,
        }
    }
}

/// What `Sandbox::output` and `Child::wait_with_output` return.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[must_use]
pub struct Output {
    /// How the sandbox ended.
    pub report: ExitReport,
    /// Everything the program wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything the program wrote to stderr.
    pub stderr: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(raw_status: i32, cgroup: Option<CgroupStats>) -> ExitReport {
        let usage = ResourceUsage { user_time: Duration::from_micros(1500), ..Default::default() };
        ExitReport { status: ExitStatus::from_raw(raw_status), wall_time: Duration::from_micros(19_740), usage, cgroup }
    }

    #[test]
    fn a_report_reads_as_one_line() {
        assert_eq!(report(0, None).to_string(), "exited with 0 after 19.7 ms (1.5 ms CPU)");
        let stats = CgroupStats {
            memory_peak_bytes: Some(3_250_586),
            cpu_user: Some(Duration::from_millis(2)),
            cpu_system: Some(Duration::ZERO),
            oom_kills: Some(1),
            ..Default::default()
        };
        assert_eq!(
            report(libc::SIGKILL, Some(stats)).to_string(),
            "killed by SIGKILL after 19.7 ms (peak 3.1 MiB, 2.0 ms CPU, 1 OOM kill)"
        );
        assert_eq!(report(3 << 8, None).to_string(), "exited with 3 after 19.7 ms (1.5 ms CPU)");
        assert!(report(libc::SIGSEGV | 0x80, None).to_string().starts_with("killed by SIGSEGV (core dumped) after"));
        let sigsys = report(libc::SIGSYS | 0x80, None);
        assert!(sigsys.killed_by_seccomp() && !report(libc::SIGKILL, None).killed_by_seccomp());
        assert!(sigsys.to_string().starts_with("killed by SIGSYS (seccomp filter) (core dumped) after"), "{sigsys}");
    }

    #[test]
    fn durations_and_sizes_pick_a_readable_unit() {
        assert_eq!(duration(Duration::from_micros(850)), "850 µs");
        assert_eq!(duration(Duration::from_millis(2310)), "2.31 s");
        assert_eq!((bytes(512), bytes(2048), bytes(5 << 30)), ("512 B".into(), "2.0 KiB".into(), "5.0 GiB".into()));
    }
}
