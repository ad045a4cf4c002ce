//! How ids inside a user namespace relate to the host's (**parent**: plain data, public).

/// A range of ids: `count` ids starting at `inside` in the sandbox are `outside`.. on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdRange {
    /// The first id inside the sandbox.
    pub inside: u32,
    /// The host id it is.
    pub outside: u32,
    /// How many ids the range covers.
    pub count: u32,
}

impl IdRange {
    /// `count` ids from `inside` in the sandbox are `outside`.. on the host.
    #[must_use]
    pub const fn new(inside: u32, outside: u32, count: u32) -> IdRange {
        IdRange { inside, outside, count }
    }
}

/// How user and group ids inside a user namespace relate to the host's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UserMapping {
    /// The default: the sandbox's root is an unprivileged host identity. For an unprivileged
    /// caller that is the caller itself (as [`UserMapping::Current`]); for a root caller it is
    /// `nobody` ([`NOBODY`](crate::NOBODY), uid and gid 65534), never host root. Without a
    /// user namespace a root caller's program runs as `nobody` too, unless the command names
    /// its own ids. The trade-off: as `nobody` the sandbox reads and writes only what `nobody`
    /// may on the host, so a bind source must be readable (or writable) by uid 65534.
    #[default]
    Unprivileged,
    /// The caller's uid and gid are 0 inside, and nothing else is mapped. Works without
    /// privileges (setgroups is then denied inside, as the kernel requires). For a **root
    /// caller this is host root inside** (the kernel grants uid 0 its file and sysctl
    /// permissions everywhere on the host): an explicit loosening. Without a user namespace,
    /// it keeps a root caller's program as root.
    Current,
    /// One uid and one gid. Mapping ids other than the caller's own needs root.
    Single {
        /// The uid inside.
        inside_uid: u32,
        /// The host uid it is.
        outside_uid: u32,
        /// The gid inside.
        inside_gid: u32,
        /// The host gid it is.
        outside_gid: u32,
    },
    /// The caller as 0, then the caller's subordinate ids from /etc/subuid and /etc/subgid from
    /// 1 upwards, written by the setuid helpers newuidmap and newgidmap (package uidmap).
    Subordinate,
    /// Any ranges, written directly: needs CAP_SETUID and CAP_SETGID on the host (root).
    Ranges {
        /// The uid map, at most 340 ranges.
        uids: Vec<IdRange>,
        /// The gid map, at most 340 ranges.
        gids: Vec<IdRange>,
    },
}
