//! An image's `User` as ids (**parent**, at `build()`): `user`, `uid`, `user:group`,
//! `uid:gid` (and mixes), resolved against the image's own `/etc/passwd` and `/etc/group`,
//! read from its layers, as Docker and runc do: a name must be there; a numeric uid need not
//! (its gid is then 0 unless given); the supplementary groups are the groups of
//! `/etc/group` that list the user's name.

use std::path::{Path, PathBuf};

use super::error::ImageRunError;
use super::layers::read_merged;

/// The ids an image's `User` runs as, inside the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageIds {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (empty: none).
    pub groups: Vec<u32>,
}

/// One line of `/etc/passwd`: name, uid, gid.
struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
}

fn passwd(text: &str) -> impl Iterator<Item = PasswdEntry<'_>> {
    text.lines().filter_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        let _password = f.next()?;
        Some(PasswdEntry { name, uid: f.next()?.parse().ok()?, gid: f.next()?.parse().ok()? })
    })
}

/// One line of `/etc/group`: name, gid, members.
fn group(text: &str) -> impl Iterator<Item = (&str, u32, Vec<&str>)> {
    text.lines().filter_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        let _password = f.next()?;
        let gid = f.next()?.parse().ok()?;
        let members = f.next().unwrap_or("").split(',').filter(|m| !m.is_empty()).collect();
        Some((name, gid, members))
    })
}

/// The image's `/etc/passwd` and `/etc/group` (empty when absent), read on demand.
pub(crate) struct IdFiles {
    pub passwd: Option<String>,
    pub group: Option<String>,
}

impl IdFiles {
    /// Both files from the merged tree of `layers`, lowest first.
    pub fn read(layers: &[PathBuf], image: &str) -> Result<IdFiles, ImageRunError> {
        let read = |path: &str| {
            let found = read_merged(layers, Path::new(path));
            let failed = |source| ImageRunError::Read { image: image.to_string(), path: PathBuf::from(path), source };
            found.map(|f| f.map(|(_, bytes)| String::from_utf8_lossy(&bytes).into_owned())).map_err(failed)
        };
        Ok(IdFiles { passwd: read("etc/passwd")?, group: read("etc/group")? })
    }
}

/// `user` (the config's `User`, not empty) as ids; `files` gives the image's id files.
/// The most supplementary groups a process can have (NGROUPS_MAX).
const MAX_GROUPS: usize = 65536;

pub(crate) fn resolve(user: &str, image: &str, files: &IdFiles) -> Result<ImageIds, ImageRunError> {
    let bad = || ImageRunError::BadUser { image: image.to_string(), user: user.to_string() };
    let (who, grp) = match user.split_once(':') {
        Some((u, g)) if g.contains(':') || u.is_empty() || g.is_empty() => return Err(bad()),
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let users = files.passwd.as_deref().unwrap_or("");
    let entry = match who.parse::<u32>() {
        Ok(uid) => passwd(users).find(|e| e.uid == uid).map(|e| (e.name, e.uid, e.gid)).or(Some(("", uid, 0))),
        Err(_) => passwd(users).find(|e| e.name == who).map(|e| (e.name, e.uid, e.gid)),
    };
    let Some((name, uid, primary)) = entry else {
        return Err(ImageRunError::UnknownUser { image: image.to_string(), user: who.to_string() });
    };
    let groups_text = files.group.as_deref().unwrap_or("");
    let gid = match grp {
        None => primary,
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => group(groups_text)
                .find(|(n, _, _)| *n == g)
                .map(|(_, gid, _)| gid)
                .ok_or_else(|| ImageRunError::UnknownGroup { image: image.to_string(), group: g.to_string() })?,
        },
    };
    // In the file's order, each once (a set beside, so that a long file stays linear).
    let (mut groups, mut seen) = (Vec::new(), std::collections::HashSet::new());
    if !name.is_empty() {
        for (_, g, members) in group(groups_text) {
            if members.contains(&name) && g != gid && seen.insert(g) {
                groups.push(g);
            }
            if groups.len() > MAX_GROUPS {
                let (image, user) = (image.to_string(), name.to_string());
                return Err(ImageRunError::TooManyGroups { image, user, max: MAX_GROUPS });
            }
        }
    }
    Ok(ImageIds { uid, gid, groups })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> IdFiles {
        IdFiles {
            passwd: Some("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\nbroken line\n".into()),
            group: Some("root:x:0:\nstaff:x:50:app,other\napp:x:1001:\nweb:x:33:app\n".into()),
        }
    }

    fn ids(user: &str) -> Result<ImageIds, ImageRunError> {
        resolve(user, "img", &files())
    }

    #[test]
    fn a_user_in_more_groups_than_a_process_can_have_is_refused_quickly() {
        let lines: String = (0..200_000u32).map(|g| format!("g{g}:x:{}:app\n", g + 2000)).collect();
        let files = IdFiles { group: Some(lines), ..files() };
        let started = std::time::Instant::now();
        let err = resolve("app", "img", &files).unwrap_err();
        assert!(matches!(err, ImageRunError::TooManyGroups { max: MAX_GROUPS, .. }), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    }

    #[test]
    fn names_and_numbers_resolve_as_docker_does() {
        assert_eq!(ids("root").unwrap(), ImageIds { uid: 0, gid: 0, groups: vec![] });
        assert_eq!(ids("app").unwrap(), ImageIds { uid: 1000, gid: 1001, groups: vec![50, 33] });
        assert_eq!(ids("1000").unwrap(), ImageIds { uid: 1000, gid: 1001, groups: vec![50, 33] });
        assert_eq!(ids("4242").unwrap(), ImageIds { uid: 4242, gid: 0, groups: vec![] }, "not in passwd: gid 0");
        assert_eq!(ids("app:staff").unwrap(), ImageIds { uid: 1000, gid: 50, groups: vec![33] });
        assert_eq!(ids("7:8").unwrap(), ImageIds { uid: 7, gid: 8, groups: vec![] });
        assert_eq!(ids("0:web").unwrap().gid, 33);
    }

    #[test]
    fn unknown_names_and_malformed_users_are_typed_errors() {
        assert!(matches!(ids("nobody"), Err(ImageRunError::UnknownUser { user, .. }) if user == "nobody"));
        assert!(matches!(ids("app:wheel"), Err(ImageRunError::UnknownGroup { group, .. }) if group == "wheel"));
        for bad in ["a:b:c", ":1", "1:"] {
            assert!(matches!(ids(bad), Err(ImageRunError::BadUser { .. })), "{bad}");
        }
        let none = IdFiles { passwd: None, group: None };
        assert!(matches!(resolve("app", "img", &none), Err(ImageRunError::UnknownUser { .. })));
        assert_eq!(resolve("5", "img", &none).unwrap(), ImageIds { uid: 5, gid: 0, groups: vec![] });
    }
}
