//! The resource limits a user asks for (**parent**: plain data, validated at `build()` into
//! [`Setting`]s, or refused with a [`LimitError`]).

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::cpulist::CpuList;
use super::error::LimitError;
use super::settings::{IoMax, Setting};

/// Read and write caps on one block device (cgroup v2 `io.max`, v1 `blkio.throttle.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoLimit {
    pub(crate) device: PathBuf,
    pub(crate) read_bps: Option<u64>,
    pub(crate) write_bps: Option<u64>,
    pub(crate) read_iops: Option<u64>,
    pub(crate) write_iops: Option<u64>,
}

impl IoLimit {
    /// Limits for the block device at `device` (e.g. "/dev/vda"); give it at least one rate.
    #[must_use]
    pub fn new(device: impl AsRef<Path>) -> IoLimit {
        IoLimit { device: device.as_ref().into(), read_bps: None, write_bps: None, read_iops: None, write_iops: None }
    }
    /// Caps reads at this many bytes per second (more than 0).
    #[must_use]
    pub fn read_bps(mut self, bytes_per_second: u64) -> IoLimit {
        self.read_bps = Some(bytes_per_second);
        self
    }
    /// Caps writes at this many bytes per second (more than 0).
    #[must_use]
    pub fn write_bps(mut self, bytes_per_second: u64) -> IoLimit {
        self.write_bps = Some(bytes_per_second);
        self
    }
    /// Caps reads at this many operations per second (more than 0).
    #[must_use]
    pub fn read_iops(mut self, per_second: u64) -> IoLimit {
        self.read_iops = Some(per_second);
        self
    }
    /// Caps writes at this many operations per second (more than 0).
    #[must_use]
    pub fn write_iops(mut self, per_second: u64) -> IoLimit {
        self.write_iops = Some(per_second);
        self
    }
}

/// Every limit the builder can record.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Limits {
    pub memory_max: Option<u64>,
    pub memory_high: Option<u64>,
    pub memory_swap_max: Option<u64>,
    pub memory_min: Option<u64>,
    pub memory_low: Option<u64>,
    pub cpu_max: Option<f64>,
    pub cpu_max_burst: Option<std::time::Duration>,
    /// The CFS period `cpu_max` is enforced over (default [`CPU_PERIOD_US`]).
    pub cpu_max_period: Option<std::time::Duration>,
    pub cpu_weight: Option<u32>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    pub pids_max: Option<u64>,
    pub io_weight: Option<u32>,
    pub io: Vec<IoLimit>,
}

/// The CFS period isobox uses for CPU quotas (the kernel's default).
pub(crate) const CPU_PERIOD_US: u64 = 100_000;

/// What [`Limits::settings`] checks the limits against: the host's online CPUs and memory
/// nodes, and the least memory a sandbox's own setup needs before exec.
pub(crate) struct HostFacts {
    pub cpus: CpuList,
    pub mems: CpuList,
    /// The lowest memory max or high (bytes): below it the kernel's OOM killer could act
    /// before exec, while the child still shares the caller's memory, and kill the caller.
    pub memory_floor: u64,
}

impl HostFacts {
    pub fn read(memory_floor: u64) -> HostFacts {
        HostFacts::read_from(Path::new("/sys/devices/system/cpu/online"), Path::new(NODES_ONLINE), memory_floor)
    }

    /// [`HostFacts::read`] from these files (tests point them elsewhere). A kernel built
    /// without NUMA has no `node/online`, and one memory node, 0 (what its cpusets take).
    pub fn read_from(cpus: &Path, nodes: &Path, memory_floor: u64) -> HostFacts {
        let read = |p: &Path| std::fs::read_to_string(p).map(|t| CpuList::parse(&t).unwrap_or_default());
        let mems = match read(nodes) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => CpuList(std::iter::once(0).collect()),
            other => other.unwrap_or_default(),
        };
        HostFacts { cpus: read(cpus).unwrap_or_default(), mems, memory_floor }
    }
}

/// The memory nodes online.
const NODES_ONLINE: &str = "/sys/devices/system/node/online";

impl Limits {
    pub fn is_empty(&self) -> bool {
        *self == Limits::default()
    }

    /// Validates the limits into settings, in the order they must be written.
    pub fn settings(&self, host: &HostFacts) -> Result<Vec<Setting>, LimitError> {
        let mut out = Vec::new();
        self.cpuset_settings(host, &mut out)?;
        self.memory_settings(host.memory_floor, &mut out)?;
        self.cpu_settings(&host.cpus, &mut out)?;
        if let Some(n) = self.pids_max {
            if n == 0 {
                return Err(LimitError::Zero { limit: "pids max" });
            }
            out.push(Setting::PidsMax(n));
        }
        self.io_settings(&mut out)?;
        Ok(out)
    }

    fn cpuset_settings(&self, host: &HostFacts, out: &mut Vec<Setting>) -> Result<(), LimitError> {
        for (limit, text, online, is_cpus) in [
            ("cpuset cpus", &self.cpuset_cpus, &host.cpus, true),
            ("cpuset mems", &self.cpuset_mems, &host.mems, false),
        ] {
            let Some(text) = text else { continue };
            let list = CpuList::parse(text).ok_or_else(|| LimitError::CpuListSyntax { limit, text: text.clone() })?;
            if list.is_empty() || !list.is_subset(online) {
                return Err(LimitError::CpuListOutsideHost { limit, list, online: online.clone() });
            }
            out.push(if is_cpus { Setting::CpusetCpus(list) } else { Setting::CpusetMems(list) });
        }
        Ok(())
    }

    fn memory_settings(&self, floor: u64, out: &mut Vec<Setting>) -> Result<(), LimitError> {
        for (limit, value) in [("memory max", self.memory_max), ("memory high", self.memory_high)] {
            match value {
                Some(0) => return Err(LimitError::Zero { limit }),
                Some(bytes) if bytes < floor => return Err(LimitError::MemoryBelowFloor { limit, bytes, floor }),
                _ => {}
            }
        }
        if let Some(n) = self.memory_max {
            out.push(Setting::MemoryMax(n));
        }
        if let Some(n) = self.memory_high {
            out.push(Setting::MemoryHigh(n));
        }
        // Protections, not caps: no floor (a protected sandbox can still be capped), and 0
        // is a valid "none".
        if let Some(n) = self.memory_min {
            out.push(Setting::MemoryMin(n));
        }
        if let Some(n) = self.memory_low {
            out.push(Setting::MemoryLow(n));
        }
        if let Some(total) = self.memory_swap_max {
            let memory = self.memory_max.ok_or(LimitError::SwapWithoutMemoryMax)?;
            if total < memory {
                return Err(LimitError::SwapBelowMemory { total, memory });
            }
            out.push(Setting::MemorySwapTotal { total, memory });
        }
        Ok(())
    }

    fn cpu_settings(&self, online: &CpuList, out: &mut Vec<Setting>) -> Result<(), LimitError> {
        let period_us = match self.cpu_max_period {
            // The kernel's bounds for cpu.cfs_period_us and cpu.max's period.
            Some(p) if (1_000..=1_000_000).contains(&p.as_micros()) => p.as_micros() as u64,
            Some(period) => return Err(LimitError::CpuPeriod { period }),
            None => CPU_PERIOD_US,
        };
        if self.cpu_max_period.is_some() && self.cpu_max.is_none() {
            return Err(LimitError::CpuPeriod { period: self.cpu_max_period.unwrap_or_default() });
        }
        if let Some(fraction) = self.cpu_max {
            let quota = fraction * period_us as f64;
            if !fraction.is_finite() || !(1000.0..=1e12).contains(&quota) {
                return Err(LimitError::CpuMax { cpus: fraction });
            }
            // A quota above the CPUs there are is no limit at all: refuse it rather than
            // accept a cap that never applies. (An unreadable CPU list counts as no check.)
            let host_cpus = online.len();
            if host_cpus > 0 && fraction > host_cpus as f64 {
                return Err(LimitError::CpuMaxAboveHost { cpus: fraction, online: online.clone() });
            }
            let quota_us = quota.round() as u64;
            out.push(Setting::CpuMax { quota_us, period_us });
            if let Some(burst) = self.cpu_max_burst {
                out.push(Setting::CpuMaxBurst(cpu_burst(burst, quota_us)?));
            }
        } else if let Some(burst) = self.cpu_max_burst {
            return Err(LimitError::BurstWithoutCpuMax { burst });
        }
        if let Some(w) = self.cpu_weight {
            out.push(Setting::CpuWeight(weight("cpu weight", w)?));
        }
        Ok(())
    }

    fn io_settings(&self, out: &mut Vec<Setting>) -> Result<(), LimitError> {
        if let Some(w) = self.io_weight {
            out.push(Setting::IoWeight(weight("io weight", w)?));
        }
        for limit in &self.io {
            let device = block_device(&limit.device)?;
            let (rbps, wbps, riops, wiops) = (limit.read_bps, limit.write_bps, limit.read_iops, limit.write_iops);
            if [rbps, wbps, riops, wiops].iter().all(Option::is_none) {
                return Err(LimitError::NoIoRate { device: limit.device.clone() });
            }
            if [rbps, wbps, riops, wiops].contains(&Some(0)) {
                return Err(LimitError::ZeroIoRate { device: limit.device.clone() });
            }
            out.push(Setting::IoMax(IoMax { path: limit.device.clone(), device, rbps, wbps, riops, wiops }));
        }
        Ok(())
    }
}

/// A burst in whole microseconds, 1 up to the quota (the kernel refuses more).
fn cpu_burst(burst: std::time::Duration, quota_us: u64) -> Result<u64, LimitError> {
    let us = u64::try_from(burst.as_micros()).unwrap_or(u64::MAX);
    if us == 0 || us > quota_us {
        return Err(LimitError::BurstOutOfRange { burst, quota_us });
    }
    Ok(us)
}

/// A weight in the kernel's range, 1..=10000.
fn weight(limit: &'static str, value: u32) -> Result<u32, LimitError> {
    if (1..=10_000).contains(&value) {
        Ok(value)
    } else {
        Err(LimitError::OutOfRange { limit, value: value.into(), min: 1, max: 10_000 })
    }
}

/// The major and minor number of a block device path.
fn block_device(path: &Path) -> Result<(u32, u32), LimitError> {
    let meta = std::fs::metadata(path).map_err(|e| LimitError::DeviceUnusable {
        device: path.to_path_buf(),
        errno: nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)),
    })?;
    if !meta.file_type().is_block_device() {
        return Err(LimitError::NotABlockDevice { device: path.to_path_buf() });
    }
    let rdev = meta.rdev();
    Ok((libc::major(rdev), libc::minor(rdev)))
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
