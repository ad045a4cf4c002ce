//! Starting B from A (**child**): the one call of the `unsafe`
//! [`join::clone_joined`](super::join::clone_joined), with the join plan's stack.
//!
//! # Safety
//! The one `unsafe` block vouches for the plan's stack and for the argument B reads.

use nix::errno::Errno;

use super::join::{clone_joined, JoinedStart};
use crate::join::plan::JoinedPlan;

/// Starts B, which runs `run(plan)`: [`clone_joined`] on the plan's stack, into its cgroup.
/// Returns once B has exec'd or exited. Async-signal-safe (**child**, A).
pub fn start_joined(plan: &JoinedPlan<'_>, run: fn(&JoinedPlan<'_>) -> !) -> Result<(), Errno> {
    let start = JoinedStart { arg: plan, run };
    // SAFETY: `start` lives in this frame and `plan` in the parent's, which
    // `launch_join::exec_child` keeps until A has exited, and `clone_joined` returns only
    // once B is done with both; the plan's stack was made by `JoinedStack::of` from a Stack
    // the parent holds until then, used by no other process: A runs on the spawn's own, is
    // single-threaded and clones B once per plan (`child::join_recipe`).
    unsafe { clone_joined(plan.join.stack, &start, plan.join.cgroup_into, &plan.join.launched) }
}
