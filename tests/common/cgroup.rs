#![allow(dead_code)]
//! A parent cgroup of a test's own (`/isobox-test-<pid>-<tag>` in every hierarchy where it
//! comes to exist), removed with whatever is left below it, whatever the test did.

use std::path::PathBuf;

use isobox::{Namespaces, Sandbox, SandboxBuilder};

pub struct TestParent {
    pub name: String,
}

impl TestParent {
    pub fn new(tag: &str) -> TestParent {
        TestParent { name: format!("/isobox-test-{}-{tag}", std::process::id()) }
    }

    /// The parent's directory in every mounted hierarchy where it exists.
    pub fn dirs(&self) -> Vec<PathBuf> {
        cgroup_mounts().into_iter().map(|m| m.join(&self.name[1..])).filter(|d| d.is_dir()).collect()
    }

    /// The sandbox cgroups left below the parent.
    pub fn leftovers(&self) -> Vec<PathBuf> {
        self.dirs()
            .iter()
            .flat_map(|d| std::fs::read_dir(d).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir()))
            .collect()
    }

    /// A builder whose sandboxes go under this parent.
    pub fn builder(&self, ns: Namespaces) -> SandboxBuilder {
        let mut b = Sandbox::builder();
        b.namespaces(ns).cgroup_parent(&self.name);
        b
    }
}

impl Drop for TestParent {
    fn drop(&mut self) {
        for leftover in self.leftovers() {
            let _ = std::fs::remove_dir(leftover);
        }
        for dir in self.dirs() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Every cgroup (v1 or v2) mount point.
pub fn cgroup_mounts() -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    info.lines()
        .filter(|l| l.contains(" - cgroup ") || l.contains(" - cgroup2 "))
        .filter_map(|l| l.split(' ').nth(4).map(PathBuf::from))
        .collect()
}

/// The cgroup v2 mount point, on a host whose memory controller is on v2.
pub fn v2_memory_mount() -> Option<PathBuf> {
    cgroup_mounts().into_iter().find(|m| {
        std::fs::read_to_string(m.join("cgroup.controllers")).is_ok_and(|c| c.split_whitespace().any(|c| c == "memory"))
    })
}
