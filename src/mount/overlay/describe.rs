//! A failed overlay mount in words (**parent**): the stage the child's record names (which
//! layer, which option), and a hint where the host is the likely cause.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use nix::errno::Errno;

use super::compiled::{OverlayApi, OverlayPlan, UpperPlan};
use crate::mount::describe::MountAction;

/// What the child was doing when the overlay failed: the index of its failure record. A layer
/// is [`LAYER`] plus its index, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub(crate) enum Stage {
    Open = 1,
    Base,
    UpperMount,
    UpperDirs,
    UpperDir,
    WorkDir,
    UserXattr,
    Volatile,
    Create,
    Mount,
    Attach,
    LegacyMount,
    OpenRoot,
}

/// The first index that names a layer.
pub(crate) const LAYER: usize = 0x1000;

impl Stage {
    const ALL: [Stage; 13] = [
        Stage::Open,
        Stage::Base,
        Stage::UpperMount,
        Stage::UpperDirs,
        Stage::UpperDir,
        Stage::WorkDir,
        Stage::UserXattr,
        Stage::Volatile,
        Stage::Create,
        Stage::Mount,
        Stage::Attach,
        Stage::LegacyMount,
        Stage::OpenRoot,
    ];

    fn option(self) -> &'static str {
        match self {
            Stage::Open => "fsopen(overlay)",
            Stage::Base => "changing to the layers' common parent",
            Stage::UpperMount | Stage::UpperDirs | Stage::UpperDir => "upperdir",
            Stage::WorkDir => "workdir",
            Stage::UserXattr => "userxattr",
            Stage::Volatile => "volatile",
            Stage::Create => "creating the overlay (the kernel checks its layers here)",
            Stage::Mount => "fsmount",
            Stage::Attach => "attaching the overlay",
            Stage::LegacyMount => "mount(2) with the option string",
            Stage::OpenRoot => "opening the overlay's root",
        }
    }
}

/// The overlay's failed step in the user's terms: a layer, the upper directory, or an option.
pub(crate) fn action(plan: &OverlayPlan, index: usize) -> MountAction {
    if index >= LAYER {
        let layer = index - LAYER;
        let path = plan.layers.get(layer).cloned().unwrap_or_default();
        return MountAction::OverlayLayer { index: layer, path };
    }
    let stage = Stage::ALL.iter().find(|s| **s as usize == index).copied().unwrap_or(Stage::Create);
    // mount(2) does not say which layer it could not find: the first that is gone now.
    if let (Stage::LegacyMount, Some((layer, path))) = (stage, missing_layer(plan)) {
        return MountAction::OverlayLayer { index: layer, path };
    }
    match (stage, &plan.upper) {
        (Stage::UpperMount | Stage::UpperDirs | Stage::UpperDir, UpperPlan::Tmpfs { .. }) => {
            MountAction::OverlayUpper { path: None }
        }
        (Stage::UpperMount | Stage::UpperDirs | Stage::UpperDir, UpperPlan::Dir { parent, .. }) => {
            MountAction::OverlayUpper { path: Some(parent.clone()) }
        }
        (Stage::Base, _) => {
            let base = plan.base.as_ref().map(|b| PathBuf::from(OsStr::from_bytes(b.as_bytes())));
            MountAction::OverlayOption { option: stage.option(), path: base }
        }
        _ => MountAction::OverlayOption { option: stage.option(), path: None },
    }
}

/// The first layer (lowest first) that is no longer a directory (**parent**, after a failure).
fn missing_layer(plan: &OverlayPlan) -> Option<(usize, PathBuf)> {
    plan.layers.iter().enumerate().find(|(_, l)| !l.is_dir()).map(|(i, l)| (i, l.clone()))
}

const LAYER_ACCESS: &str = "the sandbox sets up as its own root (nobody, uid 65534, on the host for a root caller): \
    it must be able to search every directory on the way to each layer and read the layer";
const UPPER_ACCESS: &str = "the sandbox sets up as its own root (nobody, uid 65534, on the host for a root caller): \
    it must be able to search the upper directory (Upper::Dir) and every directory above it";
const NO_OVERLAY: &str = "this kernel has no overlay filesystem: load the module (modprobe overlay)";
const USERNS: &str = "mounting overlayfs in a user namespace needs Linux 5.11, and a kernel that allows it \
    (some distributions turn it off)";
const UPPER_FS: &str = "the upper directory's filesystem must support xattrs (user.* ones in a user namespace: \
    tmpfs since Linux 6.6) and d_type, and cannot be an overlay itself; the kernel log says what it refused";
const CREATE_EINVAL: &str = "overlayfs refused its layers: they must be directories on filesystems it can stack on \
    (not another overlay's upper), none inside another; upper and work on one filesystem; the kernel log \
    (dmesg) names the reason";
const ELOOP_HINT: &str = "overlayfs found layers that overlap (one inside another, or inside the upper directory)";
const EBUSY_HINT: &str = "the upper or work directory is in use by another overlay";
const TOO_LONG: &str = "one value is at most 255 bytes and the option string one page";

/// Why the overlay failed, where the host is the likely cause.
pub(crate) fn hint(plan: &OverlayPlan, index: usize, errno: Errno) -> Option<&'static str> {
    let stage = (index < LAYER).then(|| Stage::ALL.iter().find(|s| **s as usize == index).copied()).flatten();
    let dir_upper = matches!(plan.upper, UpperPlan::Dir { .. });
    match (stage, errno) {
        (Some(Stage::UpperMount | Stage::UpperDirs | Stage::UpperDir | Stage::WorkDir), Errno::EACCES) if dir_upper => {
            Some(UPPER_ACCESS)
        }
        (_, Errno::EACCES) => Some(LAYER_ACCESS),
        (None | Some(Stage::LegacyMount), Errno::ENOENT | Errno::ENOTDIR) => {
            Some("the layer is gone or no longer a directory since build()")
        }
        (Some(Stage::Open), Errno::ENODEV) => Some(NO_OVERLAY),
        (Some(Stage::Open | Stage::LegacyMount | Stage::Create), Errno::EPERM) if plan.userxattr => Some(USERNS),
        (Some(Stage::UserXattr), Errno::EINVAL) => Some("userxattr needs Linux 5.11"),
        (Some(Stage::Create | Stage::LegacyMount), Errno::EOPNOTSUPP) => Some(UPPER_FS),
        (Some(Stage::Create), Errno::EINVAL) => Some(CREATE_EINVAL),
        (Some(Stage::LegacyMount), Errno::EINVAL) if matches!(plan.api, OverlayApi::Legacy { .. }) => {
            Some(CREATE_EINVAL)
        }
        (None, Errno::EINVAL) => Some(TOO_LONG),
        (_, Errno::ELOOP) => Some(ELOOP_HINT),
        (_, Errno::EBUSY) => Some(EBUSY_HINT),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> OverlayPlan {
        OverlayPlan {
            layers: vec!["/l/base".into(), "/l/top".into()],
            lowers: vec![c"/l/top".into(), c"/l/base".into()],
            base: None,
            staging: "/mnt".into(),
            staging_c: c"/mnt".into(),
            upper_path: c"/mnt/upper".into(),
            work_path: c"/mnt/work".into(),
            upper: UpperPlan::Dir { parent: "/var/tmp/u".into(), keep: false },
            api: OverlayApi::LowerdirPlus,
            userxattr: true,
            volatile: true,
        }
    }

    #[test]
    fn a_record_names_the_layer_or_the_option() {
        let p = plan();
        let layer = action(&p, LAYER + 1);
        assert_eq!(layer, MountAction::OverlayLayer { index: 1, path: "/l/top".into() });
        assert_eq!(layer.to_string(), "overlay layer #1 /l/top");
        let upper = action(&p, Stage::UpperMount as usize);
        assert_eq!(upper, MountAction::OverlayUpper { path: Some("/var/tmp/u".into()) });
        assert_eq!(action(&p, Stage::UserXattr as usize).to_string(), "overlay option userxattr");
        assert_eq!(hint(&p, Stage::UserXattr as usize, Errno::EINVAL), Some("userxattr needs Linux 5.11"));
        assert_eq!(hint(&p, LAYER, Errno::EACCES), Some(LAYER_ACCESS));
        for stage in [Stage::UpperMount, Stage::UpperDir, Stage::WorkDir] {
            assert_eq!(hint(&p, stage as usize, Errno::EACCES), Some(UPPER_ACCESS), "{stage:?}");
        }
        let tmpfs = OverlayPlan { upper: UpperPlan::Tmpfs { options: Vec::new() }, ..plan() };
        assert_ne!(hint(&tmpfs, Stage::UpperMount as usize, Errno::EACCES), Some(UPPER_ACCESS));
        assert_eq!(hint(&p, Stage::Open as usize, Errno::EPERM), Some(USERNS));
    }
}
