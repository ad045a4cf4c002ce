//! User namespace id maps (**parent**): choosing them at `build()`, writing them after clone.

use std::path::PathBuf;
use std::process::Command as HostCommand;

use nix::unistd::{Gid, Pid, Uid};

use crate::error::{ConfigError, SpawnError};

/// A range of ids: `count` ids starting at `inside` in the sandbox are `outside`.. on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    pub inside: u32,
    pub outside: u32,
    pub count: u32,
}

impl IdRange {
    pub const fn new(inside: u32, outside: u32, count: u32) -> IdRange {
        IdRange { inside, outside, count }
    }
}

/// How user and group ids inside a user namespace relate to the host's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UserMapping {
    /// The caller's uid and gid are 0 inside, and nothing else is mapped. Works without
    /// privileges (setgroups is then denied inside, as the kernel requires).
    #[default]
    Current,
    /// One uid and one gid. Mapping ids other than the caller's own needs root.
    Single { inside_uid: u32, outside_uid: u32, inside_gid: u32, outside_gid: u32 },
    /// The caller as 0, then the caller's subordinate ids from /etc/subuid and /etc/subgid from
    /// 1 upwards, written by the setuid helpers newuidmap and newgidmap (package uidmap).
    Subordinate,
    /// Any ranges, written directly: needs CAP_SETUID and CAP_SETGID on the host (root).
    Ranges { uids: Vec<IdRange>, gids: Vec<IdRange> },
}

/// The maps as they will be written, decided at `build()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PreparedMaps {
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

/// Who is asking: the effective ids and name of the calling process.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub uid: u32,
    pub gid: u32,
    pub name: Option<String>,
}

impl Caller {
    pub fn current() -> Caller {
        let uid = Uid::effective();
        let name = nix::unistd::User::from_uid(uid).ok().flatten().map(|u| u.name);
        Caller { uid: uid.as_raw(), gid: Gid::effective().as_raw(), name }
    }

    pub fn is_root(&self) -> bool {
        self.uid == 0
    }
}

/// Decides the maps. `read_file` reads /etc/subuid and /etc/subgid (a seam for tests).
pub(crate) fn prepare(
    mapping: &UserMapping,
    caller: &Caller,
    read_file: &dyn Fn(&str) -> std::io::Result<String>,
) -> Result<PreparedMaps, ConfigError> {
    let own = |inside, outside| vec![IdRange { inside, outside, count: 1 }];
    let direct = MapWriter::Direct { deny_setgroups: !caller.is_root() };
    let (uids, gids, writer) = match mapping {
        UserMapping::Current => (own(0, caller.uid), own(0, caller.gid), direct),
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
    Ok(PreparedMaps { uids, gids, writer })
}

fn check_ranges(what: &'static str, ranges: &[IdRange]) -> Result<(), ConfigError> {
    if ranges.is_empty() || ranges.len() > 340 {
        return Err(ConfigError::IdMap { what, reason: "needs between 1 and 340 ranges" });
    }
    if ranges.iter().any(|r| r.count == 0 || r.inside.checked_add(r.count).is_none()) {
        return Err(ConfigError::IdMap { what, reason: "a range is empty or runs past u32::MAX" });
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

const DENIED_HINT: &str = "mapping ids other than your own needs root (CAP_SETUID/CAP_SETGID); \
     use UserMapping::Current, or UserMapping::Subordinate with entries in /etc/subuid and /etc/subgid";

/// Writes the maps for the child `pid`, which waits meanwhile.
pub(crate) fn write_maps(maps: &PreparedMaps, pid: Pid) -> Result<(), SpawnError> {
    match maps.writer {
        MapWriter::Direct { deny_setgroups } => {
            if deny_setgroups {
                write_proc(pid, "setgroups", "deny")?;
            }
            write_proc(pid, "uid_map", &map_text(&maps.uids))?;
            write_proc(pid, "gid_map", &map_text(&maps.gids))
        }
        MapWriter::Helpers => {
            run_helper("newuidmap", pid, &maps.uids)?;
            run_helper("newgidmap", pid, &maps.gids)
        }
    }
}

fn write_proc(pid: Pid, name: &str, text: &str) -> Result<(), SpawnError> {
    let file = PathBuf::from(format!("/proc/{pid}/{name}"));
    std::fs::write(&file, text).map_err(|source| {
        let hint = (source.raw_os_error() == Some(libc::EPERM)).then_some(DENIED_HINT);
        SpawnError::IdMap { file, source, hint }
    })
}

fn run_helper(helper: &'static str, pid: Pid, ranges: &[IdRange]) -> Result<(), SpawnError> {
    let mut cmd = HostCommand::new(helper);
    cmd.arg(pid.to_string());
    for r in ranges {
        cmd.args([r.inside.to_string(), r.outside.to_string(), r.count.to_string()]);
    }
    let out = cmd.output().map_err(|source| SpawnError::IdMapHelperMissing { helper, source })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(SpawnError::IdMapHelperFailed { helper, status: out.status, stderr });
    }
    Ok(())
}

#[cfg(test)]
#[path = "idmap_tests.rs"]
mod tests;
