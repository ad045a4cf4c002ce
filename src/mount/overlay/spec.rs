//! An overlay root as the user asks for it (**parent**: plain data, checked and compiled at
//! `build()` by [`super::plan`]).

use std::path::{Path, PathBuf};

/// The most lower layers overlayfs stacks (`OVL_MAX_STACK`).
pub const MAX_OVERLAY_LAYERS: usize = 500;

/// A root made of read-only layer directories under a writable upper directory, as an image
/// runs: [`SandboxBuilder::overlay_root`](crate::SandboxBuilder::overlay_root), in place of
/// [`rootfs`](crate::SandboxBuilder::rootfs).
///
/// The layers are host directories in overlayfs's format (what
/// [`unpack_layer`](crate::unpack_layer) writes: a whiteout is a 0:0 character device, an
/// opaque directory carries `user.overlay.opaque` in a sandbox with a user namespace, where the
/// overlay is mounted with `userxattr`, and `trusted.overlay.opaque` without one; unpack with
/// `UnpackOptions::trusted_xattrs` to match). They are never written: every change the sandbox
/// makes lands in its upper directory, so one set of layers serves any number of sandboxes at
/// once. The overlay is mounted in the sandbox's own mount namespace (nodev, like a `rootfs`)
/// and goes away with it.
///
/// The sandbox's root (nobody on the host for a root caller, see
/// [`UserMapping::Unprivileged`](crate::UserMapping::Unprivileged)) must be able to read the
/// layers and search every directory on the way to them; it can change a file of a layer only
/// where it could change the file itself (its owner is the sandbox's root on the host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayRoot {
    pub(crate) layers: Vec<PathBuf>,
    pub(crate) upper: Upper,
    pub(crate) keep_upper: bool,
    pub(crate) legacy_mount: bool,
}

/// Where an overlay root's writes go.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Upper {
    /// A tmpfs of the sandbox's own, limited to `size` bytes if given (default: tmpfs's, half
    /// of RAM): nothing is written on the host, and the writes end with the sandbox.
    Tmpfs {
        /// The tmpfs's size limit in bytes (more than 0).
        size: Option<u64>,
    },
    /// A host directory (absolute, on a filesystem with xattrs and `d_type`, not inside a
    /// layer): each spawn makes a directory of its own in it, holding `upper` (the sandbox's
    /// changes, deletions as whiteouts) and `work` (overlayfs's), owned by the sandbox's root,
    /// which must be able to search `dir` and the directories above it.
    /// It is removed when the [`Child`](crate::Child) is waited for or dropped, unless
    /// [`OverlayRoot::keep_upper`]; [`Child::upper_dir`](crate::Child::upper_dir) names it.
    Dir(PathBuf),
}

impl Default for Upper {
    fn default() -> Self {
        Upper::Tmpfs { size: None }
    }
}

impl OverlayRoot {
    /// An overlay of `layers`, host directories given **lowest first** (an image's order: the
    /// base layer first), with a tmpfs upper. At most [`MAX_OVERLAY_LAYERS`].
    #[must_use]
    pub fn new<P: AsRef<Path>>(layers: impl IntoIterator<Item = P>) -> OverlayRoot {
        let layers = layers.into_iter().map(|p| p.as_ref().to_path_buf()).collect();
        OverlayRoot { layers, upper: Upper::default(), keep_upper: false, legacy_mount: false }
    }

    /// Where the sandbox's writes go (default: [`Upper::Tmpfs`] without a size limit).
    #[must_use]
    pub fn upper(mut self, upper: Upper) -> OverlayRoot {
        self.upper = upper;
        self
    }

    /// Keeps each spawn's upper directory on the host after the sandbox ends (default: off), to
    /// read or commit what the sandbox changed. Only with [`Upper::Dir`]. Without it the upper
    /// directory is a throwaway, mounted `volatile` (no syncs to disk).
    #[must_use]
    pub fn keep_upper(mut self, keep: bool) -> OverlayRoot {
        self.keep_upper = keep;
        self
    }

    /// Mounts with the classic `mount(2)` option string even where the kernel takes the layers
    /// one by one (`lowerdir+`, Linux 6.8; default: off). The string must fit in one page:
    /// `build()` says how many layers fit when it does not. Before Linux 6.8 this is the only
    /// way, and is used without asking.
    #[must_use]
    pub fn legacy_mount(mut self, on: bool) -> OverlayRoot {
        self.legacy_mount = on;
        self
    }

    /// The layers, lowest first.
    #[must_use]
    pub fn layers(&self) -> &[PathBuf] {
        &self.layers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_keep_their_order_and_the_upper_defaults_to_tmpfs() {
        let root = OverlayRoot::new(["/l/base", "/l/top"]);
        assert_eq!(root.layers(), [PathBuf::from("/l/base"), PathBuf::from("/l/top")]);
        assert_eq!(root.upper, Upper::Tmpfs { size: None });
        let root = root.upper(Upper::Dir("/var/tmp/u".into())).keep_upper(true);
        assert_eq!((root.upper, root.keep_upper), (Upper::Dir("/var/tmp/u".into()), true));
    }
}
