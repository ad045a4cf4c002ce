//! `isobox::doctor()`: what this host allows isobox to do, and what to change (**parent**).
//!
//! Every check is read-only or makes only what is its own and gone before it returns: system
//! calls asked in ways the kernel refuses after it has shown it knows them (`sys::doctor`),
//! sysctl and cgroup files read, a helper's `--version` (killed after 5 s), /dev/net/tun's mode, and
//! three ordinary isobox spawns (user namespace, time namespace, overlay root) of a program
//! that does not exist, which end at their exec. The spawns are the same code a user's spawn
//! runs, so the report says what spawning does. Rooms: `report` (the types), `display` (the
//! table), one file per group of checks.

mod cgroup;
mod display;
mod ids;
mod knobs;
pub(crate) mod report;
mod security;
mod spawns;
mod syscalls;
mod usernet;

use std::time::Instant;

use report::DoctorReport;

/// Checks what this host lets isobox do for this caller; see [`DoctorReport`].
#[must_use]
pub fn doctor() -> DoctorReport {
    let started = Instant::now();
    let is_root = nix::unistd::geteuid().is_root();
    let mut findings = Vec::new();
    syscalls::findings(&mut findings);
    findings.push(spawns::time_namespace(is_root));
    findings.push(spawns::overlay_in_user_namespace());
    security::findings(&mut findings);
    findings.push(spawns::user_namespaces(is_root));
    findings.push(knobs::finding());
    cgroup::findings(&mut findings, is_root);
    ids::findings(&mut findings);
    usernet::findings(&mut findings);
    DoctorReport { findings, elapsed: started.elapsed() }
}
