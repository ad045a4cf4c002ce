//! The cgroup layout, its controllers and the caller's right to make cgroups (**parent**,
//! read-only): the same `Layout` a spawn's plan reads, and the same rule for where its cgroup
//! goes (`/isobox` for root; for anyone else a delegated v2 cgroup).

use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::unistd::{access, AccessFlags};

use super::report::{CgroupLayoutKind, Check, CheckState, Detail, Finding};
use crate::cgroup::controller::Controller;
use crate::cgroup::layout::{dir_of, Layout, Place};

/// The controllers isobox's limits use.
const USED: [Controller; 5] =
    [Controller::Cpuset, Controller::Memory, Controller::Cpu, Controller::Pids, Controller::Io];

/// Layout, controllers and delegation.
pub(super) fn findings(out: &mut Vec<Finding>, is_root: bool) {
    let layout = match Layout::detect() {
        Ok(layout) => layout,
        Err((path, e)) => {
            let errno = e.raw_os_error().map_or(Errno::EIO, Errno::from_raw);
            for check in [Check::CgroupLayout, Check::CgroupControllers, Check::CgroupDelegation] {
                let detail = Detail::Unreadable { path: path.clone(), errno };
                let fix = Some("mount /proc (and /sys/fs/cgroup) so that isobox can read the cgroup layout".into());
                out.push(Finding { check, state: CheckState::Unknown, detail, fix });
            }
            return;
        }
    };
    out.push(layout_finding(&layout));
    out.push(controllers(&layout));
    out.push(delegation(&layout, is_root));
}

pub(super) fn kind(layout: &Layout) -> CgroupLayoutKind {
    let v1 = layout.v1.iter().any(|h| h.controllers.iter().any(|c| !c.starts_with("name=")));
    match (&layout.unified, v1) {
        (Some(_), false) => CgroupLayoutKind::V2,
        (Some(_), true) => CgroupLayoutKind::Hybrid,
        (None, true) => CgroupLayoutKind::V1,
        (None, false) => CgroupLayoutKind::None,
    }
}

fn layout_finding(layout: &Layout) -> Finding {
    let kind = kind(layout);
    let missing = kind == CgroupLayoutKind::None;
    let state = if missing { CheckState::Missing } else { CheckState::Works };
    let fix = missing.then(|| "mount cgroup2 at /sys/fs/cgroup (mount -t cgroup2 none /sys/fs/cgroup)".to_string());
    let unified = layout.unified.as_ref().map(|h| h.mount.clone());
    let v1 = layout.v1.iter().map(|h| h.mount.clone()).collect();
    Finding { check: Check::CgroupLayout, state, detail: Detail::CgroupLayout { kind, unified, v1 }, fix }
}

fn controllers(layout: &Layout) -> Finding {
    let mut v1: Vec<String> =
        layout.v1.iter().flat_map(|h| h.controllers.iter()).filter(|c| !c.starts_with("name=")).cloned().collect();
    v1.sort();
    let v2 = layout.unified_controllers.clone();
    let missing: Vec<&'static str> = USED.iter().filter(|c| layout.place(**c).is_none()).map(|c| c.v2_name()).collect();
    let (state, fix) = if missing.is_empty() {
        (CheckState::Works, None)
    } else {
        let fix = format!(
            "limits on {} fail at spawn: enable the controllers (on v2, in the parent's cgroup.subtree_control; on \
             v1, mount their hierarchies under /sys/fs/cgroup)",
            missing.join(", ")
        );
        (CheckState::Missing, Some(fix))
    };
    Finding { check: Check::CgroupControllers, state, detail: Detail::Controllers { v1, v2, missing }, fix }
}

fn delegation(layout: &Layout, is_root: bool) -> Finding {
    if is_root {
        // Root's cgroups go to /isobox below the root of each hierarchy (cgroup::parent).
        let dir = match layout.place(Controller::Memory).or_else(|| layout.place(Controller::Pids)) {
            Some(Place::V1(h) | Place::V2(h)) => Some(h.mount.clone()),
            None => layout.unified.as_ref().map(|h| h.mount.clone()),
        };
        let writable = dir.as_deref().is_some_and(writable);
        let fix = (!writable).then(|| {
            "the cgroup filesystem is read-only to root here (a container): mount it read-write, or delegate a \
             subtree and pass it to cgroup_parent()"
                .to_string()
        });
        let state = if writable { CheckState::Works } else { CheckState::Forbidden };
        let detail = Detail::Delegation { dir, writable, subtree_control: Vec::new() };
        return Finding { check: Check::CgroupDelegation, state, detail, fix };
    }
    let own = layout.unified.as_ref().zip(own_cgroup()).map(|(h, cgroup)| dir_of(h, &cgroup));
    let writable = own.as_deref().is_some_and(|d| writable(d) && writable(&d.join("cgroup.procs")));
    let subtree_control = own.as_deref().map(subtree_control).unwrap_or_default();
    let pure_v2 = layout.is_pure_v2();
    let (state, fix) = if !pure_v2 {
        (
            CheckState::Forbidden,
            "cgroup v1 cannot be delegated to an unprivileged user safely: run as root, or boot with \
             cgroup v2 only (systemd.unified_cgroup_hierarchy=1)",
        )
    } else if writable {
        // Spawns never pick a cgroup of the caller's on their own: a limit without
        // cgroup_parent() fails with NoDelegation, so this is not "works" yet.
        (
            CheckState::NeedsSetup,
            "a spawn with limits fails until it is given a cgroup_parent(): make a cgroup below this \
             one, move this process out of it, and pass the new one (a v2 cgroup with processes \
             cannot hand controllers to children)",
        )
    } else {
        (
            CheckState::Forbidden,
            "ask for a delegated cgroup (systemd-run --user --scope -p Delegate=yes ...) or chown \
             a cgroup and its cgroup.procs, cgroup.subtree_control and cgroup.threads to this user",
        )
    };
    let detail = Detail::Delegation { dir: own, writable, subtree_control };
    Finding { check: Check::CgroupDelegation, state, detail, fix: Some(fix.to_string()) }
}

fn writable(path: &Path) -> bool {
    access(path, AccessFlags::W_OK).is_ok()
}

/// This process's v2 cgroup: the `0::` line of /proc/self/cgroup.
fn own_cgroup() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines().find_map(|l| l.strip_prefix("0::")).map(PathBuf::from)
}

fn subtree_control(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap_or_default();
    text.split_whitespace().map(String::from).collect()
}
