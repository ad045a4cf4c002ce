//! A failed cgroup join in the child, in words (**parent**): the file and what to do.

use std::path::PathBuf;

use nix::errno::Errno;

use super::join::JoinFile;

/// The join file the child failed to write, by the index its record carries.
pub(crate) fn join_file(join: &[JoinFile], index: usize) -> Option<PathBuf> {
    join.get(index).map(|f| f.path.clone())
}

/// Why joining a cgroup failed, where the host is the likely cause.
pub(crate) fn join_hint(errno: Errno) -> Option<&'static str> {
    match errno {
        Errno::EACCES | Errno::EPERM => Some(
            "the caller must be root or own the cgroup's tasks/cgroup.procs file (a security module may deny it too)",
        ),
        Errno::ENOSPC => Some("a v1 cpuset cgroup needs cpuset.cpus and cpuset.mems set before it takes a process"),
        Errno::ENOENT => Some("the cgroup parent was removed while the sandbox was starting"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_cgroup_join_gets_a_hint_for_each_likely_cause() {
        assert!(join_hint(Errno::EACCES).unwrap().contains("own the cgroup"));
        assert!(join_hint(Errno::ENOSPC).unwrap().contains("cpuset"));
        assert_eq!(join_hint(Errno::EIO), None);
    }
}
