//! `build()`: validate the builder and prepare everything the child needs (**parent**).
//! After this, spawning allocates only for the command and never on the child's path.

use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::builder::{SandboxBuilder, TimeOffsets};
use crate::cgroup::group::CgroupPlan;
use crate::cgroup::layout::Layout;
use crate::cgroup::limits::HostCpus;
use crate::error::ConfigError;
use crate::idmap::{self, Caller, PreparedMaps};
use crate::plan::{self, MountPlan, PlanInput};
use crate::probe::HostProbe;
use crate::{Namespaces, Rlimit, UserMapping};

/// A validated sandbox configuration, ready to spawn from.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub namespaces: Namespaces,
    /// The mount plan; empty without a mount namespace.
    pub plan: MountPlan,
    pub hostname: Option<Vec<u8>>,
    pub domainname: Option<Vec<u8>>,
    pub rlimits: Vec<Rlimit>,
    pub maps: Option<PreparedMaps>,
    /// The text written to /proc/self/timens_offsets.
    pub time_offsets: Option<CString>,
    pub die_with_parent: bool,
    pub no_new_privs: bool,
    pub caller: Caller,
    /// Limits, the layout and the chosen parent; `None` when neither a limit nor a cgroup parent
    /// was asked for.
    pub cgroup: Option<CgroupPlan>,
}

pub(crate) fn build(b: &SandboxBuilder) -> Result<Config, ConfigError> {
    let ns = b.namespaces;
    check_uts(b, ns)?;
    check_mount_settings(b, ns)?;
    check_rlimits(&b.rlimits)?;
    if b.time_offsets.is_some() {
        need(ns, Namespaces::TIME, "time offsets", "TIME")?;
    }
    if ns.contains(Namespaces::TIME) {
        check_kernel("a time namespace", crate::kernel::TIME_NAMESPACE_AT_EXEC, crate::kernel::version())?;
    }
    if b.user_mapping != UserMapping::Current {
        need(ns, Namespaces::USER, "a user mapping", "USER")?;
    }
    let caller = Caller::current();
    let maps = if ns.contains(Namespaces::USER) {
        Some(idmap::prepare(&b.user_mapping, &caller, &|f| std::fs::read_to_string(f))?)
    } else {
        None
    };
    Ok(Config {
        namespaces: ns,
        plan: mount_plan(b, ns)?,
        hostname: b.hostname.as_deref().map(|h| h.as_bytes().to_vec()),
        domainname: b.domainname.as_deref().map(|d| d.as_bytes().to_vec()),
        rlimits: b.rlimits.clone(),
        maps,
        time_offsets: b.time_offsets.map(offsets_text),
        die_with_parent: b.die_with_parent,
        no_new_privs: b.no_new_privs,
        caller,
        cgroup: cgroup_plan(b)?,
    })
}

fn need(ns: Namespaces, want: Namespaces, what: &'static str, namespace: &'static str) -> Result<(), ConfigError> {
    if ns.contains(want) {
        Ok(())
    } else {
        Err(ConfigError::NeedsNamespace { what, namespace })
    }
}

fn check_kernel(feature: &'static str, needs: (u32, u32), found: Option<(u32, u32)>) -> Result<(), ConfigError> {
    match found {
        Some(v) if v >= needs => Ok(()),
        _ => Err(ConfigError::KernelTooOld { feature, needs, found }),
    }
}

fn check_uts(b: &SandboxBuilder, ns: Namespaces) -> Result<(), ConfigError> {
    for (what, name) in [("hostname", &b.hostname), ("domain name", &b.domainname)] {
        if let Some(name) = name {
            need(ns, Namespaces::UTS, what, "UTS")?;
            no_nul(what, name)?;
            if name.len() > 64 {
                return Err(ConfigError::NameTooLong { what, len: name.len() });
            }
        }
    }
    Ok(())
}

fn check_mount_settings(b: &SandboxBuilder, ns: Namespaces) -> Result<(), ConfigError> {
    if let Some(rootfs) = &b.rootfs {
        need(ns, Namespaces::MOUNT, "rootfs", "MOUNT")?;
        check_dir("rootfs", rootfs)?;
    }
    if !b.mounts.is_empty() {
        need(ns, Namespaces::MOUNT, "mounts", "MOUNT")?;
    }
    if b.readonly_root {
        need(ns, Namespaces::MOUNT, "a read-only root", "MOUNT")?;
    }
    for mount in &b.mounts {
        absolute("mount target", &mount.target)?;
        if let Some(option) = mount.misapplied {
            return Err(ConfigError::TmpfsOption { option, mount: mount.to_string() });
        }
        if let crate::mount::MountKind::Bind { source, .. } = &mount.kind {
            absolute("bind source", source)?;
        }
        if let crate::mount::MountKind::Tmpfs { size: Some(0), .. } = &mount.kind {
            // tmpfs reads size=0 as "no limit": a limit asked for would silently not apply.
            let reason = format!("{mount}: a size of 0 would mean no limit to tmpfs");
            return Err(ConfigError::Limit { what: "tmpfs size", reason });
        }
    }
    Ok(())
}

/// Checks that `path` is absolute and free of NUL bytes.
pub(crate) fn absolute(what: &'static str, path: &Path) -> Result<(), ConfigError> {
    no_nul(what, path.as_os_str())?;
    if path.is_absolute() {
        Ok(())
    } else {
        Err(ConfigError::RelativePath { what, path: path.to_path_buf() })
    }
}

pub(crate) fn no_nul(what: &str, s: &OsStr) -> Result<(), ConfigError> {
    if s.as_bytes().contains(&0) {
        Err(ConfigError::NulByte { what: what.to_string() })
    } else {
        Ok(())
    }
}

fn check_dir(what: &'static str, path: &Path) -> Result<(), ConfigError> {
    absolute(what, path)?;
    let meta = std::fs::metadata(path).map_err(|source| ConfigError::Path { what, path: path.into(), source })?;
    if meta.is_dir() {
        Ok(())
    } else {
        Err(ConfigError::NotADirectory { what, path: path.into() })
    }
}

fn check_rlimits(rlimits: &[Rlimit]) -> Result<(), ConfigError> {
    match rlimits.iter().find(|r| r.soft > r.hard) {
        Some(r) => Err(ConfigError::Rlimit { resource: r.resource.name(), soft: r.soft, hard: r.hard }),
        None => Ok(()),
    }
}

fn mount_plan(b: &SandboxBuilder, ns: Namespaces) -> Result<MountPlan, ConfigError> {
    if !ns.contains(Namespaces::MOUNT) {
        return Ok(MountPlan::default());
    }
    let default_root_at = match &b.rootfs {
        Some(rootfs) => rootfs.clone(),
        None => plan::default_root_mount_point(&b.mounts, &|p| p.is_dir()).ok_or(ConfigError::NoStagingDirectory)?,
    };
    let input = PlanInput {
        default_root_at: &default_root_at,
        rootfs: b.rootfs.as_deref(),
        mounts: &b.mounts,
        readonly_root: b.readonly_root,
        pid_namespace: ns.contains(Namespaces::PID),
    };
    plan::build_plan(&input, &HostProbe)
}

/// Validates the limits and reads the host's cgroup layout; the parent is chosen at spawn.
fn cgroup_plan(b: &SandboxBuilder) -> Result<Option<CgroupPlan>, ConfigError> {
    // A chosen parent gives the sandbox a cgroup even without limits: for its figures and
    // the clean-up of every process in it.
    if b.limits.is_empty() && b.cgroup_parent.is_none() {
        return Ok(None);
    }
    let settings = b.limits.settings(&HostCpus::read())?;
    if let Some(parent) = &b.cgroup_parent {
        absolute("cgroup parent", parent)?;
    }
    let layout =
        Layout::detect().map_err(|(path, source)| ConfigError::Path { what: "cgroup layout file", path, source })?;
    let page_size = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE).ok().flatten().unwrap_or(4096) as u64;
    Ok(Some(CgroupPlan { layout, parent: b.cgroup_parent.clone(), settings, page_size }))
}

/// The timens_offsets text; the kernel wants non-negative nanoseconds below one second.
fn offsets_text(t: TimeOffsets) -> CString {
    let line =
        |clock: &str, ns: i64| format!("{clock} {} {}\n", ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000));
    let text = line("monotonic", t.monotonic_ns) + &line("boottime", t.boottime_ns);
    CString::new(text).unwrap_or_default()
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
