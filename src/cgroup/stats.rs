//! What a sandbox's cgroup used (**parent**), read from v1 or v2 files.

use std::path::Path;
use std::time::Duration;

use super::controller::Controller;
use super::dir::{Dir, Version};
use super::fs::{keyed, number, read_small};
use super::group::Cgroup;

/// Figures from the sandbox's cgroup: every process of the sandbox, not only the first.
/// A figure is `None` where the host does not provide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
#[must_use]
pub struct CgroupStats {
    /// Peak memory use (v2 `memory.peak`, v1 `memory.max_usage_in_bytes`).
    pub memory_peak_bytes: Option<u64>,
    /// Memory in use now (live figures only; `None` in an exit report).
    pub memory_current_bytes: Option<u64>,
    /// Processes killed by the OOM killer in this cgroup (v2 `memory.events`, v1
    /// `memory.oom_control`).
    pub oom_kills: Option<u64>,
    /// Times memory use hit the limit (v2 `memory.events` max, v1 `memory.failcnt`).
    pub memory_limit_hits: Option<u64>,
    /// Times the sandbox was throttled and reclaimed for going over
    /// [`memory_high`](crate::SandboxBuilder::memory_high) (v2 `memory.events` high; v1 has none).
    pub memory_high_events: Option<u64>,
    /// Times the kernel reclaimed from the sandbox although its use was under
    /// [`memory_low`](crate::SandboxBuilder::memory_low): the protection gave way to heavy
    /// pressure (v2 `memory.events` low; v1 has none).
    pub memory_low_events: Option<u64>,
    /// Times the sandbox's memory limit was reached and the kernel was about to invoke the OOM
    /// killer, whether or not it then killed (v2 `memory.events` oom; v1 has none).
    pub memory_oom_events: Option<u64>,
    /// CPU time in user mode (v2 `cpu.stat`, v1 `cpuacct.usage_user`).
    pub cpu_user: Option<Duration>,
    /// CPU time in the kernel (v2 `cpu.stat`, v1 `cpuacct.usage_sys`).
    pub cpu_system: Option<Duration>,
    /// CFS periods in which the CPU quota throttled the sandbox.
    pub cpu_throttled_periods: Option<u64>,
    /// CFS periods in which the sandbox ran beyond its quota on the burst it had saved up
    /// ([`cpu_max_burst`](crate::SandboxBuilder::cpu_max_burst); `cpu.stat` nr_bursts, Linux
    /// 5.14+).
    pub cpu_bursts: Option<u64>,
    /// Processes now (live figures only; `None` in an exit report).
    pub pids_current: Option<u64>,
    /// Highest number of processes at once (v2 `pids.peak`, Linux 6.1+; v1 has none).
    pub pids_peak: Option<u64>,
    /// Forks refused by the pids limit (`pids.events` max).
    pub pids_limit_hits: Option<u64>,
}

impl CgroupStats {
    /// Whether any limit was reached: an OOM kill, memory at its max or above its high mark, a
    /// refused fork, or CPU throttling. (A protection giving way, `memory_low_events`, is not a
    /// limit reached.)
    #[must_use]
    pub fn limit_hit(&self) -> bool {
        let memory = [self.oom_kills, self.memory_limit_hits, self.memory_high_events, self.memory_oom_events];
        memory.into_iter().chain([self.pids_limit_hits, self.cpu_throttled_periods]).any(|n| n.unwrap_or(0) > 0)
    }
}

/// When figures are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    /// While the sandbox runs: everything, current use included.
    Live,
    /// After the sandbox has exited: current use is over (no processes, and what memory is
    /// still charged is page cache), so those files are not read.
    Final,
}

/// Reads the figures of every directory of `cgroup`.
pub(crate) fn read(cgroup: &Cgroup, when: When) -> CgroupStats {
    let mut stats = CgroupStats::default();
    for dir in &cgroup.dirs {
        match dir.version {
            Version::V2 => read_v2(&dir.path, &mut stats),
            Version::V1 => read_v1(dir, &mut stats),
        }
    }
    if when == When::Live {
        read_current(cgroup, &mut stats);
    }
    stats
}

fn read_current(cgroup: &Cgroup, s: &mut CgroupStats) {
    for dir in &cgroup.dirs {
        let path = dir.path.as_path();
        let has = |c| dir.version == Version::V2 || dir.controllers.contains(&c);
        if has(Controller::Memory) {
            let file = if dir.version == Version::V2 { "memory.current" } else { "memory.usage_in_bytes" };
            s.memory_current_bytes = s.memory_current_bytes.or(number(path, file));
        }
        if has(Controller::Pids) {
            s.pids_current = s.pids_current.or(number(path, "pids.current"));
        }
    }
}

fn read_file(dir: &Path, file: &str) -> String {
    read_small(&dir.join(file)).unwrap_or_default()
}

/// Figures already found (in a v1 directory of a hybrid host) are kept: a v2 directory there
/// lacks the files of controllers that live in v1.
fn read_v2(dir: &Path, s: &mut CgroupStats) {
    s.memory_peak_bytes = s.memory_peak_bytes.or(number(dir, "memory.peak"));
    let events = read_file(dir, "memory.events");
    s.oom_kills = s.oom_kills.or(keyed(&events, "oom_kill"));
    s.memory_limit_hits = s.memory_limit_hits.or(keyed(&events, "max"));
    s.memory_high_events = s.memory_high_events.or(keyed(&events, "high"));
    s.memory_low_events = s.memory_low_events.or(keyed(&events, "low"));
    s.memory_oom_events = s.memory_oom_events.or(keyed(&events, "oom"));
    let cpu = read_file(dir, "cpu.stat");
    s.cpu_user = s.cpu_user.or(keyed(&cpu, "user_usec").map(Duration::from_micros));
    s.cpu_system = s.cpu_system.or(keyed(&cpu, "system_usec").map(Duration::from_micros));
    s.cpu_throttled_periods = s.cpu_throttled_periods.or(keyed(&cpu, "nr_throttled"));
    s.cpu_bursts = s.cpu_bursts.or(keyed(&cpu, "nr_bursts"));
    s.pids_peak = s.pids_peak.or(number(dir, "pids.peak"));
    s.pids_limit_hits = s.pids_limit_hits.or(keyed(&read_file(dir, "pids.events"), "max"));
}

fn read_v1(dir: &Dir, s: &mut CgroupStats) {
    let path = dir.path.as_path();
    for controller in &dir.controllers {
        match controller {
            Controller::Memory => {
                s.memory_peak_bytes = number(path, "memory.max_usage_in_bytes");
                s.oom_kills = keyed(&read_file(path, "memory.oom_control"), "oom_kill");
                s.memory_limit_hits = number(path, "memory.failcnt");
            }
            Controller::CpuAcct => {
                s.cpu_user = number(path, "cpuacct.usage_user").map(Duration::from_nanos);
                s.cpu_system = number(path, "cpuacct.usage_sys").map(Duration::from_nanos);
            }
            Controller::Cpu => {
                let cpu = read_file(path, "cpu.stat");
                s.cpu_throttled_periods = keyed(&cpu, "nr_throttled");
                s.cpu_bursts = keyed(&cpu, "nr_bursts");
            }
            Controller::Pids => {
                s.pids_limit_hits = keyed(&read_file(path, "pids.events"), "max");
            }
            Controller::Cpuset | Controller::Io => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::cgroup::hold::ParentHold;

    fn fake(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn v2_figures_come_from_memory_events_cpu_stat_and_pids() {
        let parents = ParentHold::default();
        let dir = fake(&[
            ("memory.peak", "1048576\n"),
            ("memory.events", "low 5\nhigh 6\nmax 7\noom 1\noom_kill 1\n"),
            ("cpu.stat", "usage_usec 300\nuser_usec 200\nsystem_usec 100\nnr_throttled 4\nnr_bursts 3\n"),
            ("pids.events", "max 2\n"),
            ("pids.current", "3\n"),
        ]);
        let cg =
            Cgroup { dirs: vec![Dir { path: dir.path().into(), version: Version::V2, controllers: vec![] }], parents };
        let s = read(&cg, When::Final);
        let live = read(&cg, When::Live);
        std::mem::forget(cg); // not a real cgroup: nothing to remove
        assert_eq!(s.memory_peak_bytes, Some(1 << 20));
        assert_eq!((s.pids_current, live.pids_current), (None, Some(3)));
        assert_eq!((s.oom_kills, s.memory_limit_hits, s.pids_limit_hits), (Some(1), Some(7), Some(2)));
        assert_eq!(s.cpu_user, Some(Duration::from_micros(200)));
        assert_eq!(s.cpu_throttled_periods, Some(4));
        assert_eq!((s.memory_low_events, s.memory_high_events, s.memory_oom_events), (Some(5), Some(6), Some(1)));
        assert_eq!(s.cpu_bursts, Some(3));
        assert!(s.limit_hit());
    }

    #[test]
    fn memory_high_counts_as_a_limit_hit_and_a_protection_giving_way_does_not() {
        let high = CgroupStats { memory_high_events: Some(2), ..CgroupStats::default() };
        let low = CgroupStats { memory_low_events: Some(2), cpu_bursts: Some(9), ..CgroupStats::default() };
        assert!(high.limit_hit());
        assert!(!low.limit_hit());
    }

    #[test]
    fn v1_figures_come_from_each_controllers_files() {
        let parents = ParentHold::default();
        let dir = fake(&[
            ("memory.max_usage_in_bytes", "4096\n"),
            ("memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"),
            ("memory.failcnt", "0\n"),
            ("cpuacct.usage_user", "5000\n"),
        ]);
        let controllers = vec![Controller::Memory, Controller::CpuAcct];
        let cg = Cgroup { dirs: vec![Dir { path: dir.path().into(), version: Version::V1, controllers }], parents };
        let s = read(&cg, When::Live);
        std::mem::forget(cg);
        assert_eq!((s.memory_peak_bytes, s.oom_kills), (Some(4096), Some(3)));
        assert_eq!(s.cpu_user, Some(Duration::from_nanos(5000)));
        assert_eq!(s.pids_current, None);
        assert!(s.limit_hit());
        assert!(!CgroupStats::default().limit_hit());
    }

    #[test]
    fn a_v2_directory_of_a_hybrid_host_keeps_the_v1_figures() {
        let parents = ParentHold::default();
        let v1 = fake(&[("memory.max_usage_in_bytes", "4096\n"), ("memory.oom_control", "oom_kill 3\n")]);
        let v2 = fake(&[("io.stat", "")]); // io on v2, memory on v1: no memory files here
        let dirs = vec![
            Dir { path: v1.path().into(), version: Version::V1, controllers: vec![Controller::Memory] },
            Dir { path: v2.path().into(), version: Version::V2, controllers: vec![Controller::Io] },
        ];
        let cg = Cgroup { dirs, parents };
        let s = read(&cg, When::Final);
        std::mem::forget(cg);
        assert_eq!((s.memory_peak_bytes, s.oom_kills), (Some(4096), Some(3)));
        assert!(s.limit_hit());
    }
}
