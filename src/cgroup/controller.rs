//! The cgroup controllers isobox uses and their names on v1 and v2 (**parent**).

/// A controller isobox may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Controller {
    Cpuset,
    Memory,
    Cpu,
    /// v1 only: CPU usage figures (on v2, `cpu.stat` is always there).
    CpuAcct,
    Pids,
    Io,
}

impl Controller {
    pub fn v1_name(self) -> &'static str {
        match self {
            Controller::Cpuset => "cpuset",
            Controller::Memory => "memory",
            Controller::Cpu => "cpu",
            Controller::CpuAcct => "cpuacct",
            Controller::Pids => "pids",
            Controller::Io => "blkio",
        }
    }

    pub fn v2_name(self) -> &'static str {
        match self {
            Controller::Io => "io",
            Controller::CpuAcct => "cpu",
            other => other.v1_name(),
        }
    }
}
