//! The procfs entries every procfs isobox mounts hides or makes read-only (**parent**,
//! compiled into the mount plan; the child applies them, see [`super::apply`]).
//!
//! The lists are the OCI runtime defaults (runc, crun) plus what current Docker and
//! containerd add (/proc/interrupts; CVE-2020-8694 for powercap, which lives in sysfs and so
//! applies only to a sysfs isobox would mount). Files are covered with the **host's**
//! /dev/null, opened before the pivot, never one inside the sandbox that a rootfs could have
//! replaced (CVE-2025-31133); directories with an empty read-only tmpfs. Entries are found
//! relative to the procfs just mounted, following no link; an entry this kernel lacks is
//! skipped. Turn them off with `SandboxBuilder::masked_paths(false)`.

use std::ffi::CStr;
use std::path::Path;

use super::ops::{Op, OpsBuilder};

/// Entries of /proc that a sandbox cannot read: kernel memory, keys, timers, devices.
pub const MASKED_PROC_PATHS: [&str; 10] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/timer_list",
    "/proc/timer_stats",
];

/// Entries of /proc that a sandbox can read but not write: kernel tunables and triggers.
pub const READ_ONLY_PROC_PATHS: [&str; 5] = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/// The same names, relative to the procfs, as the child uses them.
const MASKED: [&CStr; 10] = [
    c"acpi",
    c"asound",
    c"interrupts",
    c"kcore",
    c"keys",
    c"latency_stats",
    c"sched_debug",
    c"scsi",
    c"timer_list",
    c"timer_stats",
];
const READ_ONLY: [&CStr; 5] = [c"bus", c"fs", c"irq", c"sys", c"sysrq-trigger"];

/// The masks and read-only entries of the procfs just mounted at `proc`.
pub(crate) fn emit(b: &mut OpsBuilder, proc: &Path) {
    for name in MASKED {
        b.push(Op::Mask { proc: proc.to_path_buf(), name });
    }
    for name in READ_ONLY {
        b.push(Op::ReadOnlyEntry { proc: proc.to_path_buf(), name });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_lists_and_the_childs_names_agree() {
        let public = MASKED_PROC_PATHS.iter().chain(&READ_ONLY_PROC_PATHS);
        let names = MASKED.iter().chain(&READ_ONLY);
        for (path, name) in public.zip(names) {
            assert_eq!(path.strip_prefix("/proc/"), name.to_str().ok(), "{path}");
        }
    }
}
