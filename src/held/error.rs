//! What a held spawn refuses or fails at (**parent**).

use std::io;

use crate::pool::error::{PoolError, PoolLimit};

/// A command that cannot be spawned held, or a held sandbox that cannot be left running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HeldError {
    /// The sandbox's seccomp filter refuses a system call isobox's waiter makes between the
    /// filter and the exec (a held program waits under the sandbox's filter).
    #[error("the sandbox's seccomp filter does not allow system call {nr}, which a held spawn needs before exec: allow it, or spawn without holding")]
    FilterRefuses {
        /// The system call's number.
        nr: i64,
    },
    /// The sandbox's seccomp filter is a program of the user's with instructions isobox's
    /// interpreter does not follow, so whether it allows the waiter's calls cannot be told.
    #[error("isobox cannot tell whether the sandbox's own seccomp program allows what a held spawn needs before exec ({why}): spawn without holding")]
    FilterUnreadable {
        /// What the interpreter could not follow.
        why: String,
    },
    /// A command larger than isobox's waiter takes.
    #[error("the command has {got} {what}, a held spawn takes at most {max}")]
    TooBig {
        /// What is over the limit.
        what: PoolLimit,
        /// How many the command has.
        got: usize,
        /// The most a held spawn takes.
        max: usize,
    },
    /// Handing the command to the held sandbox, or hearing back from it, failed.
    #[error("handing the command to the held sandbox: {0}")]
    Handover(#[source] io::Error),
    /// `HeldChild::detach` of a sandbox that dies with its parent: it would not outlive this
    /// process.
    #[error("a held sandbox that dies with its parent cannot be detached: build it with die_with_parent(false)")]
    DiesWithParent,
    /// `HeldChild::detach` of a sandbox with a part that this process runs or owns.
    #[error("a held sandbox with {what} cannot be detached: that part ends with this process")]
    CannotDetach {
        /// What ties the sandbox to this process.
        what: &'static str,
    },
}

impl HeldError {
    /// The pool's checks, said of a held spawn.
    pub(crate) fn from_pool(e: PoolError) -> HeldError {
        match e {
            PoolError::FilterRefuses { nr } => HeldError::FilterRefuses { nr },
            PoolError::FilterUnreadable { why } => HeldError::FilterUnreadable { why },
            PoolError::TooBig { what, got, max } => HeldError::TooBig { what, got, max },
            PoolError::Handover(e) => HeldError::Handover(e),
            other => HeldError::Handover(io::Error::other(other.to_string())),
        }
    }
}
