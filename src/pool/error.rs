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
    /// The sandbox's seccomp filter refuses a system call isobox's waiter makes after the
    /// filter is installed (the filter is installed while the sandbox waits in the pool).
    #[error("the sandbox's seccomp filter does not allow system call {nr}, which a pooled sandbox needs before exec: allow it, or spawn without a pool")]
    FilterRefuses {
        /// The system call's number.
        nr: i64,
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
    #[error("the command is too large for a pooled sandbox: {what} (spawn it without the pool)")]
    TooBig {
        /// What is over the limit, with the numbers.
        what: String,
    },
    /// Handing the command to the pooled sandbox failed.
    #[error("handing the command to a pooled sandbox: {0}")]
    Handover(#[source] io::Error),
}
