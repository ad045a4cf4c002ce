//! Unpack options for a store whose layers run in user namespaces (**parent**): a root caller
//! unpacks with the archive's ids shifted onto the host ids the sandbox's mapping gives them,
//! so the sandbox's root owns what the image's root owns. Without that the files are host
//! root's, which the default mapping (the sandbox's root is `nobody` on the host) cannot show:
//! overlayfs then refuses to copy any of them up for writing (EOVERFLOW).

use crate::error::ConfigError;
use crate::image::unpack::{IdShift, UnpackOptions};
use crate::user::caller::Caller;
use crate::user::spec::{IdRange, UserMapping};

impl UnpackOptions {
    /// Options for the layers of sandboxes with a user namespace mapped by `mapping`: opaque
    /// directories marked with `user.overlay.opaque` (the overlay is mounted with
    /// `userxattr` there) and, for a root caller, owners applied with
    /// [`id_shift`](UnpackOptions::id_shift) set from the mapping's range at id 0 (for
    /// [`UserMapping::Unprivileged`]: every file `nobody`'s on the host, root's inside). An
    /// unprivileged caller's files are its own, its sandbox's root. Open the store with
    /// [`ImageStore::with_unpack_options`](crate::ImageStore::with_unpack_options) before
    /// importing: layers already unpacked keep their owners, so a store serves one mapping.
    pub fn for_user_namespace(mapping: &UserMapping) -> Result<UnpackOptions, ConfigError> {
        let caller = Caller::current();
        let mut options = UnpackOptions { trusted_xattrs: false, ..UnpackOptions::default() };
        if !caller.is_root() {
            options.owners = false;
            return Ok(options);
        }
        let maps = crate::user::plan::prepare(mapping, &caller, &|f| std::fs::read_to_string(f))?;
        options.owners = true;
        options.id_shift = Some(shift(&maps.uids, &maps.gids)?);
        Ok(options)
    }
}

/// The shift that puts archive ids where the maps show them: from the ranges at inside id 0.
fn shift(uids: &[IdRange], gids: &[IdRange]) -> Result<IdShift, ConfigError> {
    let at_zero = |what, ranges: &[IdRange]| {
        ranges.iter().find(|r| r.inside == 0).copied().ok_or(ConfigError::IdMap {
            what,
            reason: "maps no id 0 inside, the owner of an image's files; map the sandbox's root",
        })
    };
    let (u, g) = (at_zero("uid map", uids)?, at_zero("gid map", gids)?);
    Ok(IdShift::new(u.outside, g.outside, u.count.min(g.count)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shift_starts_at_the_host_id_of_root_inside() {
        let r = |inside, outside, count| IdRange::new(inside, outside, count);
        let s = shift(&[r(1, 5, 9), r(0, 100_000, 65536)], &[r(0, 200_000, 1000)]).unwrap();
        assert_eq!(s, IdShift::new(100_000, 200_000, 1000));
        assert_eq!((s.uid_of(0), s.uid_of(999), s.uid_of(1000)), (100_000, 100_999, 100_000), "beyond: the root");
        assert_eq!(s.gid_of(3), 200_003);
        assert!(shift(&[r(1, 5, 9)], &[r(0, 1, 1)]).is_err());
    }
}
