//! One directory of a sandbox's cgroup and the cgroup version it belongs to (**parent**).

use std::path::PathBuf;

use super::controller::Controller;

/// Which cgroup version a directory belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    V1,
    V2,
}

/// One directory of the sandbox's cgroup, in one hierarchy.
#[derive(Debug)]
pub(crate) struct Dir {
    pub path: PathBuf,
    pub version: Version,
    pub controllers: Vec<Controller>,
}

impl Dir {
    /// The file a process joins this directory through: v1 `tasks` (writing "0" there moves
    /// only the calling thread, see `join`), v2 `cgroup.procs`.
    pub fn join_file(&self) -> &'static str {
        match self.version {
            Version::V1 => "tasks",
            Version::V2 => "cgroup.procs",
        }
    }
}
