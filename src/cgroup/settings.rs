//! Validated limits and the cgroupfs files that carry them on v1 and v2 (**parent**).
//!
//! | limit | cgroup v2 | cgroup v1 |
//! | --- | --- | --- |
//! | memory max | `memory.max` | `memory.limit_in_bytes` |
//! | memory high | `memory.high` | none (spawn fails) |
//! | memory min, low (protection) | `memory.min`, `memory.low` | none (spawn fails: v1 has no guarantee, only the soft cap `memory.soft_limit_in_bytes`) |
//! | memory+swap | `memory.swap.max` = total − memory max | `memory.memsw.limit_in_bytes` = total |
//! | cpu max (fraction) | `cpu.max` = "quota 100000" | `cpu.cfs_period_us` = 100000, `cpu.cfs_quota_us` = quota |
//! | cpu max burst (µs, Linux 5.14+) | `cpu.max.burst` | `cpu.cfs_burst_us` |
//! | cpu weight 1–10000 | `cpu.weight` | `cpu.shares` = weight × 1024 / 100 |
//! | cpuset cpus, mems | `cpuset.cpus`, `cpuset.mems` | the same files |
//! | pids max | `pids.max` | `pids.max` |
//! | io weight 1–10000 | `io.weight` = "default W" | BFQ's `blkio.bfq.weight` (1–1000) or CFQ's `blkio.weight` (10–1000), whichever the kernel has (`io_weight`) |
//! | io read/write bps, iops | `io.max` = "MAJ:MIN rbps= wbps= riops= wiops=" | `blkio.throttle.{read,write}_{bps,iops}_device` |

use std::path::PathBuf;

use super::controller::Controller;
use super::cpulist::CpuList;
use super::io_weight::V1Weight;
use super::readback::{Expect, FileWrite};

/// Caps on one block device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IoMax {
    pub path: PathBuf,
    pub device: (u32, u32),
    pub rbps: Option<u64>,
    pub wbps: Option<u64>,
    pub riops: Option<u64>,
    pub wiops: Option<u64>,
}

/// One validated limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Setting {
    CpusetCpus(CpuList),
    CpusetMems(CpuList),
    MemoryMax(u64),
    MemoryHigh(u64),
    MemoryMin(u64),
    MemoryLow(u64),
    MemorySwapTotal {
        total: u64,
        memory: u64,
    },
    CpuMax {
        quota_us: u64,
        period_us: u64,
    },
    /// Microseconds, written after the quota it may not exceed.
    CpuMaxBurst(u64),
    CpuWeight(u32),
    PidsMax(u64),
    IoWeight(u32),
    IoMax(IoMax),
}

fn write(file: &'static str, value: impl ToString, expect: Expect) -> FileWrite {
    FileWrite { file, value: value.to_string(), expect, read_from: file }
}

fn exact(file: &'static str, value: impl ToString) -> FileWrite {
    write(file, value.to_string(), Expect::Exact(value.to_string()))
}

/// v2 echoes any list written to `cpuset.cpus`/`.mems` but applies only what the parent
/// allows (all of the parent's when nothing is left): the `.effective` file shows what
/// applies.
fn v2_cpuset(file: &'static str, effective: &'static str, list: &CpuList) -> FileWrite {
    FileWrite { read_from: effective, ..write(file, list, Expect::List(list.clone())) }
}

impl Setting {
    pub fn controller(&self) -> Controller {
        match self {
            Setting::CpusetCpus(_) | Setting::CpusetMems(_) => Controller::Cpuset,
            Setting::MemoryMax(_)
            | Setting::MemoryHigh(_)
            | Setting::MemoryMin(_)
            | Setting::MemoryLow(_)
            | Setting::MemorySwapTotal { .. } => Controller::Memory,
            Setting::CpuMax { .. } | Setting::CpuMaxBurst(_) | Setting::CpuWeight(_) => Controller::Cpu,
            Setting::PidsMax(_) => Controller::Pids,
            Setting::IoWeight(_) | Setting::IoMax(_) => Controller::Io,
        }
    }

    /// A short name for errors.
    pub fn name(&self) -> &'static str {
        match self {
            Setting::CpusetCpus(_) => "cpuset cpus",
            Setting::CpusetMems(_) => "cpuset mems",
            Setting::MemoryMax(_) => "memory max",
            Setting::MemoryHigh(_) => "memory high",
            Setting::MemoryMin(_) => "memory min",
            Setting::MemoryLow(_) => "memory low",
            Setting::MemorySwapTotal { .. } => "memory+swap max",
            Setting::CpuMax { .. } => "cpu max",
            Setting::CpuMaxBurst(_) => "cpu max burst",
            Setting::CpuWeight(_) => "cpu weight",
            Setting::PidsMax(_) => "pids max",
            Setting::IoWeight(_) => "io weight",
            Setting::IoMax(_) => "io limit",
        }
    }

    /// The writes for cgroup v2, in order.
    pub fn v2_writes(&self, page: u64) -> Vec<FileWrite> {
        // At the kernel's cap (PAGE_COUNTER_MAX pages) v2 reads back "max".
        let pages = |n: u64| match n / page >= max_pages(page) {
            true => Expect::Exact("max".into()),
            false => Expect::Bytes(n / page * page),
        };
        match self {
            Setting::CpusetCpus(l) => vec![v2_cpuset("cpuset.cpus", "cpuset.cpus.effective", l)],
            Setting::CpusetMems(l) => vec![v2_cpuset("cpuset.mems", "cpuset.mems.effective", l)],
            Setting::MemoryMax(n) => vec![write("memory.max", n, pages(*n))],
            Setting::MemoryHigh(n) => vec![write("memory.high", n, pages(*n))],
            Setting::MemoryMin(n) => vec![write("memory.min", n, pages(*n))],
            Setting::MemoryLow(n) => vec![write("memory.low", n, pages(*n))],
            Setting::MemorySwapTotal { total, memory } => {
                vec![write("memory.swap.max", total - memory, pages(total - memory))]
            }
            Setting::CpuMax { quota_us, period_us } => vec![exact("cpu.max", format!("{quota_us} {period_us}"))],
            Setting::CpuMaxBurst(us) => vec![exact("cpu.max.burst", us)],
            Setting::CpuWeight(w) => vec![exact("cpu.weight", w)],
            Setting::PidsMax(n) => vec![exact("pids.max", n)],
            Setting::IoWeight(w) => vec![exact("io.weight", format!("default {w}"))],
            Setting::IoMax(io) => {
                let (maj, min) = io.device;
                let pairs = [("rbps", io.rbps), ("wbps", io.wbps), ("riops", io.riops), ("wiops", io.wiops)];
                let fields: Vec<String> = pairs.iter().filter_map(|(k, v)| v.map(|v| format!("{k}={v}"))).collect();
                let value = format!("{maj}:{min} {}", fields.join(" "));
                vec![write("io.max", value, Expect::DeviceLine { device: io.device, fields })]
            }
        }
    }

    /// The writes for cgroup v1, in order; `None` where v1 has no such limit. `weight`: the io
    /// weight file the kernel has (see `io_weight`; asked for an io weight only).
    pub fn v1_writes(&self, page: u64, weight: impl FnOnce() -> Option<V1Weight>) -> Option<Vec<FileWrite>> {
        // v1 reads back the capped number of bytes.
        let pages = |n: u64| Expect::Bytes((n / page).min(max_pages(page)) * page);
        Some(match self {
            Setting::CpusetCpus(l) => vec![write("cpuset.cpus", l, Expect::List(l.clone()))],
            Setting::CpusetMems(l) => vec![write("cpuset.mems", l, Expect::List(l.clone()))],
            Setting::MemoryMax(n) => vec![write("memory.limit_in_bytes", n, pages(*n))],
            Setting::MemoryHigh(_) | Setting::MemoryMin(_) | Setting::MemoryLow(_) => return None,
            Setting::MemorySwapTotal { total, .. } => vec![write("memory.memsw.limit_in_bytes", total, pages(*total))],
            Setting::CpuMax { quota_us, period_us } => {
                vec![exact("cpu.cfs_period_us", period_us), exact("cpu.cfs_quota_us", quota_us)]
            }
            Setting::CpuMaxBurst(us) => vec![exact("cpu.cfs_burst_us", us)],
            Setting::CpuWeight(w) => vec![exact("cpu.shares", (u64::from(*w) * 1024 / 100).clamp(2, 262_144))],
            Setting::PidsMax(n) => vec![exact("pids.max", n)],
            Setting::IoWeight(w) => {
                let file = weight()?;
                vec![exact(file.file(), file.value(*w))]
            }
            Setting::IoMax(io) => v1_throttle(io),
        })
    }
}

/// The kernel's `PAGE_COUNTER_MAX`: a memory value is capped at this many pages.
fn max_pages(page: u64) -> u64 {
    i64::MAX as u64 / page.max(1)
}

fn v1_throttle(io: &IoMax) -> Vec<FileWrite> {
    let (maj, min) = io.device;
    let files = [
        ("blkio.throttle.read_bps_device", io.rbps),
        ("blkio.throttle.write_bps_device", io.wbps),
        ("blkio.throttle.read_iops_device", io.riops),
        ("blkio.throttle.write_iops_device", io.wiops),
    ];
    files
        .iter()
        .filter_map(|(file, v)| {
            let v = (*v)?;
            let expect = Expect::DeviceLine { device: io.device, fields: vec![v.to_string()] };
            Some(write(file, format!("{maj}:{min} {v}"), expect))
        })
        .collect()
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
