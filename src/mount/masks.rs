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

use super::ops::{Masks, Op, OpsBuilder};

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

/// The same names, relative to the procfs, as the child uses them, and whether each is
/// usually a directory.
const MASKED: [(&CStr, bool); 10] = [
    (c"acpi", true),
    (c"asound", true),
    (c"interrupts", false),
    (c"kcore", false),
    (c"keys", false),
    (c"latency_stats", false),
    (c"sched_debug", false),
    (c"scsi", true),
    (c"timer_list", false),
    (c"timer_stats", false),
];
const READ_ONLY: [&CStr; 5] = [c"bus", c"fs", c"irq", c"sys", c"sysrq-trigger"];

/// A procfs at `proc`, then the entries the builder's [`Masks`] ask for.
pub(crate) fn mount_proc(b: &mut OpsBuilder, proc: &Path) {
    b.mount_proc(proc);
    if b.masks == Masks::Off {
        return;
    }
    for (name, dir) in MASKED {
        b.push(Op::Mask { proc: proc.to_path_buf(), name, dir });
    }
    if b.masks == Masks::HiddenAndReadOnly {
        for name in READ_ONLY {
            b.push(Op::ReadOnlyEntry { proc: proc.to_path_buf(), name });
        }
    }
}

/// What every procfs gets. The read-only entries are bound read-only only where the
/// sandbox's identity could write them: their files belong to host root and are writable by
/// their owner alone, so they need it when an id inside is host uid 0 (`host_root_inside`),
/// or when there is no user namespace (a command may ask for uid 0). Elsewhere the kernel
/// refuses the writes already, and four mounts less keep the spawn fast.
pub(crate) fn masks_for(masked_paths: bool, host_root_inside: bool) -> Masks {
    match (masked_paths, host_root_inside) {
        (false, _) => Masks::Off,
        (true, false) => Masks::Hidden,
        (true, true) => Masks::HiddenAndReadOnly,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_lists_and_the_childs_names_agree() {
        let public = MASKED_PROC_PATHS.iter().chain(&READ_ONLY_PROC_PATHS);
        let names = MASKED.iter().map(|(name, _)| name).chain(&READ_ONLY);
        for (path, name) in public.zip(names) {
            assert_eq!(path.strip_prefix("/proc/"), name.to_str().ok(), "{path}");
        }
    }
}
