//! An overlay root as compiled (**parent**: pure data, made by [`super::plan`] at `build()`;
//! the child mounts it, see [`super::apply`]).

use std::ffi::CString;
use std::path::PathBuf;

/// How the child hands the layers to the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OverlayApi {
    /// fsopen, one `lowerdir+` per layer (Linux 6.8), fsmount, move_mount.
    LowerdirPlus,
    /// mount(2) with this option string (at most one page).
    Legacy { options: CString },
}

/// The upper, as compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UpperPlan {
    /// A tmpfs with these options, made by the child.
    Tmpfs { options: Vec<(CString, CString)> },
    /// A directory made per spawn in `parent` (`super::upper`), kept afterwards if `keep`.
    Dir { parent: PathBuf, keep: bool },
}

/// An overlay root, ready for the child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OverlayPlan {
    /// The layers as given, lowest first (for errors).
    pub layers: Vec<PathBuf>,
    /// The layers as passed to the kernel, top-most first: absolute, or relative to `base`.
    pub lowers: Vec<CString>,
    /// The directory the child changes to before passing the layers, when they are relative.
    pub base: Option<CString>,
    /// The host directory the upper and then the overlay are attached at.
    pub staging: PathBuf,
    pub staging_c: CString,
    /// `staging/upper` and `staging/work`.
    pub upper_path: CString,
    pub work_path: CString,
    pub upper: UpperPlan,
    pub api: OverlayApi,
    /// In a user namespace: overlayfs's xattrs in `user.overlay.*`.
    pub userxattr: bool,
    /// A throwaway upper directory: no syncs.
    pub volatile: bool,
}
