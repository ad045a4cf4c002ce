//! Why an overlay root cannot work (**parent**, at `build()` or, for the upper directory, at
//! spawn); part of [`ConfigError`](crate::ConfigError).

use std::io;
use std::path::PathBuf;

/// An overlay root that cannot be mounted as asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OverlayError {
    /// Both `rootfs` and `overlay_root`: a sandbox has one root.
    #[error("rootfs and overlay_root are both set; a sandbox has one root: give one of them")]
    WithRootfs,
    /// No layer at all (overlayfs needs one at least).
    #[error("an overlay root needs at least one layer")]
    NoLayers,
    /// More layers than overlayfs stacks.
    #[error("an overlay root of {layers} layers: overlayfs stacks at most {max}")]
    TooManyLayers {
        /// How many were given.
        layers: usize,
        /// The most it takes.
        max: usize,
    },
    /// A layer that is not a usable directory.
    #[error("overlay layer #{index} {path:?} (lowest first) is not usable: {source}")]
    Layer {
        /// Its index, lowest first.
        index: usize,
        /// The path given.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The upper directory is not usable (at `build()`), or a spawn's own could not be made in
    /// it (at spawn).
    #[error("overlay upper directory {path:?}: {source}")]
    UpperDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Two of the overlay's directories overlap (one is, or is inside, the other), which
    /// overlayfs refuses.
    #[error("overlay directories overlap: {inner:?} is inside {outer:?}")]
    Overlap {
        /// The one inside (or the same).
        inner: PathBuf,
        /// The one around it.
        outer: PathBuf,
    },
    /// A path with a character overlayfs's option syntax gives a meaning to.
    #[error("overlay path {path:?} holds {character:?}, which overlayfs's options read as a separator")]
    Separator {
        /// The path.
        path: PathBuf,
        /// The character: `:`, `,` or `\`.
        character: char,
    },
    /// A layer path longer than the 255 bytes the kernel takes for one option, even relative to
    /// the layers' common parent.
    #[error("overlay layer path {path:?} is {len} bytes; the kernel takes at most 255 per option (relative to the layers' common parent)")]
    PathTooLong {
        /// The path.
        path: PathBuf,
        /// Its length in bytes, as it would be passed.
        len: usize,
    },
    /// The classic option string does not fit in one page (kernels before 6.8, or
    /// `legacy_mount`), even with paths relative to the layers' common parent.
    #[error("the overlay's mount options for {layers} layers take {len} bytes, over one page ({page}); {fit} of these layers fit. Hint: Linux 6.8 takes layers one by one (lowerdir+) without this limit; or use shorter layer paths")]
    OptionsTooLong {
        /// How many layers were given.
        layers: usize,
        /// How long the option string is.
        len: usize,
        /// The page size.
        page: usize,
        /// How many of the layers (top-most first) would fit.
        fit: usize,
    },
    /// `keep_upper` with a tmpfs upper, which has nothing on the host to keep.
    #[error("keep_upper needs Upper::Dir: a tmpfs upper leaves nothing on the host to keep")]
    KeepTmpfs,
    /// A tmpfs upper of size 0, which tmpfs would read as no limit.
    #[error("a tmpfs upper of size 0 would mean no limit to tmpfs")]
    TmpfsSizeZero,
    /// A throwaway directory upper (`Upper::Dir` without `keep_upper`) in a sandbox whose
    /// processes may outlive its first one (no PID namespace, no cgroup): one could still write
    /// in the upper, or swap an entry for a link to a host path, while it is removed.
    #[error("a throwaway directory upper (Upper::Dir without keep_upper) needs a PID namespace or a cgroup, so that no process of the sandbox is left when it is removed. Hint: add Namespaces::PID, give the sandbox a cgroup (a limit or a cgroup parent), or keep_upper(true)")]
    ThrowawayUpperUncontained,
    /// A bind source that is, holds or is inside the upper directory: the sandbox could reach
    /// the spawn directories of other sandboxes (or of its own next spawns) through it.
    #[error("bind source {source_path:?} overlaps the overlay upper directory {upper:?} (one is, or is inside, the other): the sandbox could change other spawns' upper directories through it")]
    BindOverUpper {
        /// The upper directory (resolved).
        upper: PathBuf,
        /// The bind source (resolved).
        source_path: PathBuf,
    },
}
