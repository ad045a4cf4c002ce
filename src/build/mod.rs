//! `build()` (**parent**): each wing checks its part of the [`Spec`] and compiles its plan,
//! once per `Sandbox`. After this, a spawn allocates only for the command, never on the
//! child's path.

pub(crate) mod spec;

use crate::cgroup::plan::CgroupPlan;
use crate::child::plan::ChildSetup;
use crate::error::ConfigError;
use crate::namespaces::Namespaces;
use crate::user::caller::Caller;
use crate::user::plan::IdMaps;
use crate::{cgroup, mount, net, rlimit, seccomp, time, user, uts};
use spec::Spec;

/// A validated sandbox: what the parent keeps, and the child's fixed half.
#[derive(Debug, Clone)]
pub(crate) struct SandboxPlan {
    pub namespaces: Namespaces,
    /// Who built it: decides the default cgroup parent and what the ids inside may be.
    pub caller: Caller,
    /// The id maps the parent writes for each child; `None` without a user namespace.
    pub maps: Option<IdMaps>,
    /// Limits, the host's layout and the chosen parent; `None` when neither a limit nor a
    /// cgroup parent was asked for.
    pub cgroup: Option<CgroupPlan>,
    /// What the child does the same way in every spawn.
    pub child: ChildSetup,
}

/// Checks the spec and compiles every wing's plan.
pub(crate) fn build(spec: &Spec) -> Result<SandboxPlan, ConfigError> {
    let ns = spec.namespaces;
    let caller = Caller::current();
    let child = ChildSetup {
        uts: uts::plan::compile(spec.hostname.as_ref(), spec.domainname.as_ref(), ns)?,
        mounts: mount::plan::compile(&spec.mount, ns)?,
        rlimits: rlimit::plan::compile(&spec.rlimits)?,
        time: time::plan::compile(spec.time_offsets, ns)?,
        net: net::plan::compile(ns),
        unshare_cgroup: ns.cgroup_flag(),
        die_with_parent: spec.die_with_parent,
        no_new_privs: spec.no_new_privs,
        seccomp: seccomp::plan::compile(&spec.seccomp, spec.no_new_privs)?,
    };
    let maps = user::plan::compile(&spec.user_mapping, ns, &caller)?;
    let cgroup = cgroup::plan::compile(&spec.limits, spec.cgroup_parent.as_deref())?;
    Ok(SandboxPlan { namespaces: ns, caller, maps, cgroup, child })
}

#[cfg(test)]
#[path = "build_tests.rs"]
mod tests;
