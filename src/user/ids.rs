//! The ids a command runs as inside the sandbox (**parent**, per spawn), checked against the
//! sandbox's id maps so that an id the user namespace does not map fails before the clone.

use super::caller::Caller;
use super::plan::{maps_inside, MapWriter, UserPlan};
use crate::error::ConfigError;

/// The ids the child switches to; `None` leaves one as it is.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Ids {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub groups: Option<Vec<u32>>,
}

/// What a command asked for (`Command::uid`, `gid`, `groups`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Requested<'a> {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub groups: Option<&'a [u32]>,
}

/// The ids to switch to: those asked for, 0 by default in a user namespace; every one must be
/// mapped there. Without a user namespace, a root caller's program takes the plan's host ids
/// (nobody) unless the command names its own, and a root caller that switches ids drops its
/// groups.
pub(crate) fn inside(asked: Requested<'_>, plan: &UserPlan, caller: &Caller) -> Result<Ids, ConfigError> {
    let gids = asked.gid.into_iter().chain(asked.groups.into_iter().flatten().copied());
    let ids = asked.uid.map(|u| ("uid", u)).into_iter().chain(gids.map(|g| ("gid", g)));
    if let Some((kind, id)) = ids.into_iter().find(|(_, id)| *id == u32::MAX) {
        return Err(ConfigError::InvalidId { kind, id });
    }
    let Some(maps) = &plan.maps else {
        let asked = match plan.host_ids {
            Some((uid, gid)) => Requested { uid: asked.uid.or(Some(uid)), gid: asked.gid.or(Some(gid)), ..asked },
            None => asked,
        };
        let switching = asked.uid.is_some() || asked.gid.is_some();
        let groups = asked.groups.map(<[u32]>::to_vec).or_else(|| (switching && caller.is_root()).then(Vec::new));
        return Ok(Ids { uid: asked.uid, gid: asked.gid, groups });
    };
    let (uid, gid) = (asked.uid.unwrap_or(0), asked.gid.unwrap_or(0));
    let unmapped = |kind, id| ConfigError::UnmappedId { kind, id };
    if !maps_inside(&maps.uids, uid) {
        return Err(unmapped("uid", uid));
    }
    for gid in std::iter::once(gid).chain(asked.groups.into_iter().flatten().copied()) {
        if !maps_inside(&maps.gids, gid) {
            return Err(unmapped("gid", gid));
        }
    }
    Ok(Ids { uid: Some(uid), gid: Some(gid), groups: groups(asked.groups, maps.writer)? })
}

/// Supplementary groups: an unprivileged map denies setgroups, so asking for groups fails and
/// none are set; otherwise the groups asked for, or none at all (dropping the caller's).
fn groups(asked: Option<&[u32]>, writer: MapWriter) -> Result<Option<Vec<u32>>, ConfigError> {
    let setgroups_denied = writer == (MapWriter::Direct { deny_setgroups: true });
    match (asked, setgroups_denied) {
        (Some(_), true) => Err(ConfigError::IdMap {
            what: "supplementary groups",
            reason: "setgroups is denied in a user namespace mapped without privileges; \
                     use UserMapping::Subordinate or run as root",
        }),
        (Some(groups), false) => Ok(Some(groups.to_vec())),
        (None, false) if matches!(writer, MapWriter::Direct { .. }) => Ok(Some(Vec::new())),
        (None, _) => Ok(None),
    }
}
