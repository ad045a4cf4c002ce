//! User namespace id maps (**parent**, at `build()`): which ranges, and who writes them.

use super::caller::Caller;
use super::spec::{IdRange, UserMapping};
use crate::error::ConfigError;
use crate::namespaces::Namespaces;
use crate::validate;

/// The ids of `nobody` on most systems, and the kernel's default overflow ids: the host
/// identity of a root caller's sandbox by default (see [`UserMapping::Unprivileged`]).
pub const NOBODY: u32 = 65534;

/// What the user wing decided at `build()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserPlan {
    /// The id maps the parent writes for each child; `None` without a user namespace.
    pub maps: Option<IdMaps>,
    /// Without a user namespace: the (uid, gid) a root caller's program takes unless the
    /// command names its own (`nobody` by default, `None` with `UserMapping::Current`).
    pub host_ids: Option<(u32, u32)>,
    /// In a user namespace: the ids (inside) the child takes as soon as its maps are written,
    /// so that it sets up as the sandbox's root (a root caller's host ids are not mapped by
    /// default, and files it created on the sandbox's own tmpfs would have no owner).
    pub setup_ids: Option<(u32, u32)>,
}

impl UserPlan {
    /// Whether an id inside may be host uid 0: a uid range maps onto it, or there is no user
    /// namespace (where a command may ask for uid 0, and a root caller's may keep it).
    pub fn host_root_inside(&self) -> bool {
        match &self.maps {
            Some(maps) => maps.uids.iter().any(|r| r.outside == 0),
            None => true,
        }
    }
}

/// The maps as they will be written, decided at `build()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdMaps {
    pub uids: Vec<IdRange>,
    pub gids: Vec<IdRange>,
    pub writer: MapWriter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MapWriter {
    /// The parent writes /proc/PID/{setgroups,uid_map,gid_map} itself.
    Direct { deny_setgroups: bool },
    /// newuidmap/newgidmap write them.
    Helpers,
}

/// The maps each spawn gets (`None` without a user namespace), and the ids the child sets up
/// as. A mapping other than `Unprivileged` or `Current` needs a user namespace.
pub(crate) fn compile(mapping: &UserMapping, ns: Namespaces, caller: &Caller) -> Result<UserPlan, ConfigError> {
    if !matches!(mapping, UserMapping::Current | UserMapping::Unprivileged) {
        validate::need(ns, Namespaces::USER, "a user mapping")?;
    }
    if !ns.contains(Namespaces::USER) {
        let host_ids = (caller.is_root() && *mapping == UserMapping::Unprivileged).then_some((NOBODY, NOBODY));
        return Ok(UserPlan { maps: None, host_ids, setup_ids: None });
    }
    let maps = prepare(mapping, caller, &|f| std::fs::read_to_string(f))?;
    // The child starts with the caller's host ids; it switches only if they are not root inside.
    let is_root_inside = |ranges: &[IdRange], own| ranges.iter().any(|r| r.inside == 0 && r.outside == own);
    let caller_is_root_inside = is_root_inside(&maps.uids, caller.uid) && is_root_inside(&maps.gids, caller.gid);
    let root_mapped = maps_inside(&maps.uids, 0) && maps_inside(&maps.gids, 0);
    let setup_ids = (root_mapped && !caller_is_root_inside).then_some((0, 0));
    Ok(UserPlan { maps: Some(maps), host_ids: None, setup_ids })
}

/// Decides the maps. `read_file` reads /etc/subuid and /etc/subgid (a seam for tests).
pub(crate) fn prepare(
    mapping: &UserMapping,
    caller: &Caller,
    read_file: &dyn Fn(&str) -> std::io::Result<String>,
) -> Result<IdMaps, ConfigError> {
    let own = |inside, outside| vec![IdRange { inside, outside, count: 1 }];
    let direct = MapWriter::Direct { deny_setgroups: !caller.is_root() };
    let (uids, gids, writer) = match mapping {
        UserMapping::Unprivileged if caller.is_root() => (own(0, NOBODY), own(0, NOBODY), direct),
        UserMapping::Current | UserMapping::Unprivileged => (own(0, caller.uid), own(0, caller.gid), direct),
        UserMapping::Single { inside_uid, outside_uid, inside_gid, outside_gid } => {
            (own(*inside_uid, *outside_uid), own(*inside_gid, *outside_gid), direct)
        }
        UserMapping::Ranges { uids, gids } => (uids.clone(), gids.clone(), direct),
        UserMapping::Subordinate => {
            let uids = subordinate(caller, caller.uid, "/etc/subuid", read_file)?;
            let gids = subordinate(caller, caller.gid, "/etc/subgid", read_file)?;
            (uids, gids, MapWriter::Helpers)
        }
    };
    for (what, ranges) in [("uid map", &uids), ("gid map", &gids)] {
        check_ranges(what, ranges)?;
    }
    Ok(IdMaps { uids, gids, writer })
}

fn check_ranges(what: &'static str, ranges: &[IdRange]) -> Result<(), ConfigError> {
    if ranges.is_empty() || ranges.len() > 340 {
        return Err(ConfigError::IdMap { what, reason: "needs between 1 and 340 ranges" });
    }
    if ranges.iter().any(|r| r.count == 0 || r.inside.checked_add(r.count).is_none()) {
        return Err(ConfigError::IdMap { what, reason: "a range is empty or runs past u32::MAX" });
    }
    if ranges.iter().any(|r| r.outside.checked_add(r.count).is_none()) {
        return Err(ConfigError::IdMap { what, reason: "a range runs past u32::MAX on the host" });
    }
    let overlap = |side: fn(&IdRange) -> u32| {
        let mut spans: Vec<(u32, u32)> = ranges.iter().map(|r| (side(r), side(r) + r.count)).collect();
        spans.sort_unstable();
        spans.windows(2).any(|w| w[1].0 < w[0].1)
    };
    if overlap(|r| r.inside) || overlap(|r| r.outside) {
        return Err(ConfigError::IdMap {
            what,
            reason:
                "two ranges overlap inside the sandbox or on the host, which the kernel refuses; make them disjoint",
        });
    }
    Ok(())
}

/// The caller's own id as 0, then its subordinate ranges stacked from 1.
fn subordinate(
    caller: &Caller,
    own_id: u32,
    file: &'static str,
    read_file: &dyn Fn(&str) -> std::io::Result<String>,
) -> Result<Vec<IdRange>, ConfigError> {
    let user = caller.name.clone().unwrap_or_else(|| caller.uid.to_string());
    let fail = |reason: String| ConfigError::SubordinateIds { user: user.clone(), file, reason };
    let text = read_file(file).map_err(|e| fail(format!("cannot read {file}: {e}")))?;
    let mut ranges = vec![IdRange { inside: 0, outside: own_id, count: 1 }];
    let mut next_inside = 1u32;
    for (start, count) in parse_subids(&text, caller.name.as_deref(), caller.uid) {
        ranges.push(IdRange { inside: next_inside, outside: start, count });
        next_inside = next_inside.checked_add(count).ok_or_else(|| fail("ranges overflow".into()))?;
    }
    if ranges.len() == 1 {
        return Err(fail(format!("no entry in {file}")));
    }
    Ok(ranges)
}

/// Parses subuid(5)/subgid(5) text: `name-or-uid:start:count` lines for this user.
pub(crate) fn parse_subids(text: &str, name: Option<&str>, uid: u32) -> Vec<(u32, u32)> {
    let uid = uid.to_string();
    text.lines()
        .filter_map(|line| {
            let mut parts = line.trim().split(':');
            let (who, start, count) = (parts.next()?, parts.next()?, parts.next()?);
            let ours = Some(who) == name || who == uid;
            let parsed = (start.parse().ok()?, count.parse().ok()?);
            (ours && parsed.1 > 0).then_some(parsed)
        })
        .collect()
}

/// The text of a uid_map or gid_map file.
pub(crate) fn map_text(ranges: &[IdRange]) -> String {
    ranges.iter().map(|r| format!("{} {} {}\n", r.inside, r.outside, r.count)).collect()
}

/// Whether `id` inside is covered by `ranges`.
pub(crate) fn maps_inside(ranges: &[IdRange], id: u32) -> bool {
    ranges.iter().any(|r| id >= r.inside && id - r.inside < r.count)
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
