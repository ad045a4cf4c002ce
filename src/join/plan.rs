//! What an exec into a live sandbox reads (**parent** prepares, **child** reads): the
//! namespaces to join and through which pidfd, the cgroup to be born in or join, B's stack and
//! the word the kernel writes B's pid to. Checked and compiled per exec; pure data.

use std::os::fd::RawFd;
use std::sync::atomic::AtomicI32;

use super::error::ExecError;
use crate::build::SandboxPlan;
use crate::child::plan::{ChildLaunch, ChildSetup};
use crate::error::{ConfigError, Error};
use crate::namespaces::Namespaces;
use crate::sys::join::JoinedStack;

/// setns through a pidfd, and several namespaces in one call, came with Linux 5.8.
pub(crate) const SETNS_PIDFD: (u32, u32) = (5, 8);

/// One exec's half that a spawn does not have.
#[derive(Debug)]
pub(crate) struct JoinPlan {
    /// A pidfd of the sandbox's first process, whose namespaces A joins.
    pub pidfd: RawFd,
    /// What A joins: every namespace of the sandbox but the cgroup one (and time: refused).
    pub setns_flags: i32,
    /// CLONE_NEWCGROUP or 0: B joins the cgroup namespace once it is in the sandbox's cgroup.
    pub cgroup_ns: i32,
    /// Pure cgroup v2: the sandbox's directory, which B is born in (elsewhere B writes "0"
    /// to the launch's `cgroup_join` files).
    pub cgroup_into: Option<RawFd>,
    /// B's stack, which the parent keeps until A and B are done with the plan.
    pub stack: JoinedStack,
    /// B's pid, written by the kernel (`CLONE_PARENT_SETTID`); 0 until then.
    pub launched: AtomicI32,
}

/// Everything A and B read: the sandbox's fixed setup, the command's launch, the join.
#[derive(Debug)]
pub(crate) struct JoinedPlan<'a> {
    pub setup: &'a ChildSetup,
    pub launch: ChildLaunch<'a>,
    pub join: JoinPlan,
}

/// The namespaces A joins with one setns, and the cgroup namespace B joins after.
pub(crate) fn setns_flags(ns: Namespaces) -> (i32, i32) {
    (ns.clone_flags(), ns.cgroup_flag())
}

/// Whether a command can be run in a live sandbox of `plan` on a kernel of version `kernel`.
pub(crate) fn check(plan: &SandboxPlan, kernel: Option<(u32, u32)>) -> Result<(), Error> {
    if plan.namespaces.contains(Namespaces::TIME) {
        return Err(ExecError::TimeNamespace.into());
    }
    if plan.child.seccomp.notify {
        return Err(ExecError::NotifyRules.into());
    }
    if kernel.map_or(true, |found| found < SETNS_PIDFD) {
        let feature = "Child::exec (setns through a pidfd)";
        return Err(ConfigError::KernelTooOld { feature, needs: SETNS_PIDFD, found: kernel }.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::Sandbox;

    fn plan(b: &crate::builder::SandboxBuilder) -> SandboxPlan {
        crate::build::build(&b.spec).expect("valid")
    }

    #[test]
    fn a_joins_every_namespace_but_cgroup_and_b_the_cgroup_one() {
        let ns = Namespaces::USER | Namespaces::PID | Namespaces::MOUNT | Namespaces::NET | Namespaces::CGROUP;
        let (a, b) = setns_flags(ns);
        let expected = libc::CLONE_NEWUSER | libc::CLONE_NEWPID | libc::CLONE_NEWNS | libc::CLONE_NEWNET;
        assert_eq!((a, b), (expected, libc::CLONE_NEWCGROUP));
        assert_eq!(setns_flags(Namespaces::empty()), (0, 0));
    }

    #[test]
    fn time_namespaces_notify_rules_and_old_kernels_are_refused() {
        let mut b = Sandbox::builder();
        b.namespaces(Namespaces::USER | Namespaces::PID);
        let ok = plan(&b);
        assert!(check(&ok, Some((6, 1))).is_ok());
        assert!(check(&ok, Some((5, 8))).is_ok());
        let old = check(&ok, Some((5, 7))).unwrap_err();
        assert!(matches!(old, Error::Config(ConfigError::KernelTooOld { needs: (5, 8), .. })), "{old}");
        assert!(matches!(check(&ok, None), Err(Error::Config(ConfigError::KernelTooOld { .. }))));
        let mut notify = ok.clone();
        notify.child.seccomp.notify = true;
        assert!(matches!(check(&notify, Some((6, 1))), Err(Error::Exec(ExecError::NotifyRules))));
        let mut time = ok;
        time.namespaces |= Namespaces::TIME;
        assert!(matches!(check(&time, Some((6, 1))), Err(Error::Exec(ExecError::TimeNamespace))));
    }
}
