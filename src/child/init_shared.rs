//! What the sandbox's first process and the program beside isobox's init share (**child**):
//! a value in the first process's frame, read by both (see `child::init`).

use std::sync::atomic::{AtomicBool, AtomicI32};

use super::plan::ChildPlan;

/// What the first process and the program share, in the first process's frame.
pub(crate) struct Shared<'a> {
    pub plan: &'a ChildPlan<'a>,
    /// The first process could not execute the init: the program exits at once.
    pub init_failed: AtomicBool,
    /// The first process's pidfd for the program (-1 for none), kept by the init: the parent
    /// takes a seccomp listener from the program through it.
    pub program_pidfd: AtomicI32,
}

impl<'a> Shared<'a> {
    pub fn new(plan: &'a ChildPlan<'a>) -> Self {
        Shared { plan, init_failed: AtomicBool::new(false), program_pidfd: AtomicI32::new(-1) }
    }
}
