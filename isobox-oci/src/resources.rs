//! `linux.resources` and `linux.cgroupsPath` onto the library's cgroup limits. Each limit is
//! written and read back by the library, or the spawn fails; what it cannot set is refused.

use isobox::SandboxBuilder;

use crate::error::OciError;
use crate::spec::{DeviceRule, Linux, Resources};

/// Sets `b`'s limits from `linux.resources`, and its cgroup parent from `linux.cgroupsPath`.
pub fn map(b: &mut SandboxBuilder, linux: &Linux) -> Result<(), OciError> {
    if let Some(path) = linux.cgroups_path.as_deref() {
        cgroup_parent(b, path)?;
    }
    let Some(r) = &linux.resources else { return Ok(()) };
    crate::map::unknown("linux.resources.", &r.other)?;
    devices(&r.devices)?;
    memory(b, r)?;
    cpu(b, r)?;
    if let Some(p) = &r.pids {
        if p.limit > 0 {
            b.pids_max(p.limit as u64);
        }
    }
    if let Some(io) = &r.block_io {
        crate::map::unknown("linux.resources.blockIO.", &io.other)?;
        if let Some(w) = io.weight {
            b.io_weight(u32::from(w));
        }
    }
    Ok(())
}

/// Where a relative `cgroupsPath` goes (the spec leaves it to the runtime): isobox's own
/// subtree, never the runtime's own cgroup.
const RELATIVE_BASE: &str = "/isobox";

/// A cgroupfs path, from each hierarchy's root: the container's cgroup is exactly there, its
/// parents made where missing (runc's systemd form `slice:prefix:name` is refused).
fn cgroup_parent(b: &mut SandboxBuilder, path: &str) -> Result<(), OciError> {
    if path.contains(':') {
        return Err(OciError::unsupported(
            format!("linux.cgroupsPath {path:?}"),
            "the systemd form needs systemd; give a cgroupfs path",
        ));
    }
    let (parent, name) = split_cgroups_path(path)
        .ok_or_else(|| OciError::invalid(format!("linux.cgroupsPath {path:?}"), "names no cgroup"))?;
    b.cgroup_parent(parent).cgroup_name(name);
    Ok(())
}

/// `/a/b/c` → (`/a/b`, `c`); `a/b` → (`/isobox/a`, `b`). The library refuses `..` and the like.
fn split_cgroups_path(path: &str) -> Option<(String, String)> {
    let full = if path.starts_with('/') { path.to_string() } else { format!("{RELATIVE_BASE}/{path}") };
    let trimmed = full.trim_end_matches('/');
    let (parent, name) = trimmed.rsplit_once('/')?;
    if name.is_empty() {
        return None;
    }
    let parent = if parent.is_empty() { "/" } else { parent };
    Some((parent.to_string(), name.to_string()))
}

fn memory(b: &mut SandboxBuilder, r: &Resources) -> Result<(), OciError> {
    let Some(m) = &r.memory else { return Ok(()) };
    crate::map::unknown("linux.resources.memory.", &m.other)?;
    let positive = |v: Option<i64>| v.filter(|v| *v > 0).map(|v| v as u64);
    if let Some(limit) = positive(m.limit) {
        b.memory_max(limit);
    }
    if let Some(low) = positive(m.reservation) {
        b.memory_low(low);
    }
    if let Some(total) = positive(m.swap) {
        b.memory_swap_max(total);
    }
    Ok(())
}

fn cpu(b: &mut SandboxBuilder, r: &Resources) -> Result<(), OciError> {
    let Some(c) = &r.cpu else { return Ok(()) };
    crate::map::unknown("linux.resources.cpu.", &c.other)?;
    if let Some(shares) = c.shares.filter(|s| *s > 0) {
        b.cpu_weight(shares_to_weight(shares));
    }
    if let Some(quota) = c.quota.filter(|q| *q > 0) {
        let period = c.period.filter(|p| *p > 0).unwrap_or(100_000);
        b.cpu_max(quota as f64 / period as f64).cpu_max_period(std::time::Duration::from_micros(period));
    }
    if let Some(cpus) = c.cpus.as_deref().filter(|s| !s.is_empty()) {
        b.cpuset_cpus(cpus);
    }
    if let Some(mems) = c.mems.as_deref().filter(|s| !s.is_empty()) {
        b.cpuset_mems(mems);
    }
    Ok(())
}

/// cgroup v1 cpu.shares (2–262144) to the library's weight (1–10000), so that the default
/// 1024 is the default 100 (as crun and runc convert since 2025; the older linear formula
/// gave 39), and a multiple of 1024 comes back exact as v1 shares (the library writes
/// weight × 1024 / 100).
fn shares_to_weight(shares: u64) -> u32 {
    ((shares.clamp(2, 262_144) * 100 + 512) / 1024).clamp(1, 10_000) as u32
}

/// The device rules isobox enforces without a device controller: deny everything, then allow
/// only devices of its own /dev (null, zero, full, random, urandom, tty, console, ptmx, the
/// pts), or mknod anywhere. Every mount a container can create a node on is nodev, so the
/// only devices it can open are those isobox binds into /dev. Anything else is refused.
fn devices(rules: &[DeviceRule]) -> Result<(), OciError> {
    let Some((first, rest)) = rules.split_first() else { return Ok(()) };
    let deny_all = !first.allow
        && first.major.is_none()
        && first.minor.is_none()
        && matches!(first.kind.as_deref(), None | Some("a"));
    if !deny_all {
        return Err(OciError::unsupported(
            "linux.resources.devices not starting with a rule that denies every device",
            "isobox has no device controller: it denies every device but the few it binds into /dev",
        ));
    }
    match rest.iter().find(|r| !allowed_rule(r)) {
        Some(r) => Err(OciError::unsupported(
            format!(
                "linux.resources.devices rule {} {:?} {:?}:{:?} {:?}",
                if r.allow { "allow" } else { "deny" },
                r.kind,
                r.major,
                r.minor,
                r.access
            ),
            "isobox denies every device but null, zero, full, random, urandom, tty, console, ptmx and the pts",
        )),
        None => Ok(()),
    }
}

fn allowed_rule(r: &DeviceRule) -> bool {
    const DEFAULTS: &[(i64, Option<i64>)] = &[
        (1, Some(3)),
        (1, Some(5)),
        (1, Some(7)),
        (1, Some(8)),
        (1, Some(9)),
        (5, Some(0)),
        (5, Some(1)),
        (5, Some(2)),
        (136, None),
    ];
    let mknod_only = r.access.as_deref() == Some("m");
    let char_default = matches!(r.kind.as_deref(), Some("c"))
        && r.major.is_some_and(|maj| DEFAULTS.iter().any(|(m, n)| *m == maj && (n.is_none() || *n == r.minor)));
    // A deny narrows what is already denied.
    !r.allow || mknod_only || char_default
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(allow: bool, kind: Option<&str>, major: Option<i64>, minor: Option<i64>, access: &str) -> DeviceRule {
        DeviceRule { allow, kind: kind.map(str::to_string), major, minor, access: Some(access.into()) }
    }

    #[test]
    fn deny_all_then_the_default_devices_is_enforced_by_the_mounts() {
        let rules = [
            rule(false, None, None, None, "rwm"),
            rule(true, Some("c"), Some(1), Some(3), "rwm"),
            rule(true, Some("c"), Some(136), None, "rwm"),
        ];
        assert!(devices(&rules).is_ok());
        assert!(devices(&[]).is_ok());
    }

    #[test]
    fn other_devices_or_no_deny_all_are_refused() {
        assert!(devices(&[rule(true, None, None, None, "rwm")]).is_err());
        let sda = [rule(false, None, None, None, "rwm"), rule(true, Some("b"), Some(8), Some(0), "rw")];
        assert!(devices(&sda).unwrap_err().to_string().contains("Some(8)"));
    }

    #[test]
    fn cgroups_paths_split_into_parent_and_name() {
        let split = |p: &str| split_cgroups_path(p).map(|(a, b)| format!("{a} {b}"));
        assert_eq!(split("/default/c1").as_deref(), Some("/default c1"));
        assert_eq!(split("/c1").as_deref(), Some("/ c1"));
        assert_eq!(split("testdir/cgrouptest").as_deref(), Some("/isobox/testdir cgrouptest"));
        assert_eq!(split("/a/b/").as_deref(), Some("/a b"));
        assert_eq!(split("/"), None);
    }

    #[test]
    fn shares_convert_with_the_default_on_the_default() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 100);
        assert_eq!(shares_to_weight(2048), 200);
        assert_eq!(shares_to_weight(262_144), 10_000);
        for shares in [1024u64, 2048, 4096] {
            assert_eq!(u64::from(shares_to_weight(shares)) * 1024 / 100, shares, "round trip on v1");
        }
    }
}
