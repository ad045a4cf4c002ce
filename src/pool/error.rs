//! What a pool refuses or fails at (**parent**).

use std::io;

/// A pool that cannot be made, or a command a pooled sandbox cannot take.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// A pool of no sandboxes, or of more than [`MAX_POOL_SIZE`](crate::MAX_POOL_SIZE).
    #[error("a pool holds 1 to {max} sandboxes, asked for {size}")]
    Size {
        /// What was asked for.
        size: usize,
        /// The most a pool holds.
        max: usize,
    },
    /// A pool of `Network::Veth` sandboxes: every pooled sandbox would get the same addresses,
    /// and two live pairs with one host address give one sandbox the other's traffic.
    #[error("a pool cannot hold Network::Veth sandboxes: each would have the same addresses (spawn them, each with a Veth of its own, or pool Network::UserMode ones)")]
    VethAddresses,
    /// The sandbox's seccomp filter refuses a system call isobox's waiter makes after the
    /// filter is installed (the filter is installed while the sandbox waits in the pool).
    #[error("the sandbox's seccomp filter does not allow system call {nr}, which a pooled sandbox needs before exec: allow it, or spawn without a pool")]
    FilterRefuses {
        /// The system call's number.
        nr: i64,
    },
    /// The sandbox's seccomp filter is a program of the user's with instructions isobox's
    /// interpreter does not follow, so whether it allows the waiter's calls cannot be told.
    #[error("isobox cannot tell whether the sandbox's own seccomp program allows what a pooled sandbox needs before exec ({why}): spawn without a pool")]
    FilterUnreadable {
        /// What the interpreter could not follow.
        why: String,
    },
    /// A command that asks for other ids than the pool's sandboxes were set up with (those of
    /// a command that names none).
    #[error("a pooled sandbox runs commands as the ids it was set up with; this command asks for uid {uid:?}, gid {gid:?}, groups {groups:?} (spawn it without the pool)")]
    Ids {
        /// The uid asked for.
        uid: Option<u32>,
        /// The gid asked for.
        gid: Option<u32>,
        /// The groups asked for.
        groups: Option<Vec<u32>>,
    },
    /// A command larger than a pooled sandbox takes.
    #[error("the command has {got} {what}, a pooled sandbox takes at most {max} (spawn it without the pool)")]
    TooBig {
        /// What is over the limit.
        what: PoolLimit,
        /// How many the command has.
        got: usize,
        /// The most a pooled sandbox takes.
        max: usize,
    },
    /// Handing the command to the pooled sandbox failed.
    #[error("handing the command to a pooled sandbox: {0}")]
    Handover(#[source] io::Error),
}

/// What of a command a pooled sandbox takes only so much of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolLimit {
    /// Descriptors (stdio and passed ones).
    Descriptors,
    /// Arguments, environment variables and PATH candidates.
    Strings,
    /// Bytes of arguments, environment, working directory and paths.
    Bytes,
}

impl std::fmt::Display for PoolLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PoolLimit::Descriptors => "descriptors",
            PoolLimit::Strings => "arguments, variables and paths",
            PoolLimit::Bytes => "bytes of arguments, environment and paths",
        })
    }
}
