//! `build()` (**parent**): each wing checks its part of the [`Spec`] and compiles its plan,
//! once per `Sandbox`. After this, a spawn allocates only for the command, never on the
//! child's path.

pub(crate) mod spec;

use crate::cgroup::plan::CgroupPlan;
use crate::cgroup::spec::Limits;
use crate::child::plan::ChildSetup;
use crate::error::ConfigError;
use crate::image::run::plan::ImageDefaults;
use crate::namespaces::Namespaces;
use crate::net::mode::plan::ModePlan;
use crate::rlimit::spec::{Resource, Rlimit};
use crate::user::caller::Caller;
use crate::user::plan::UserPlan;
use crate::{caps, cgroup, mount, net, rlimit, seccomp, time, user, uts};
use spec::Spec;

/// A validated sandbox: what the parent keeps, and the child's fixed half.
#[derive(Debug, Clone)]
pub(crate) struct SandboxPlan {
    pub namespaces: Namespaces,
    /// The network mode: what each spawn does around the clone (`Join`) or before the
    /// release (`Veth`).
    pub network: ModePlan,
    /// Who built it: decides the default cgroup parent and what the ids inside may be.
    pub caller: Caller,
    /// The id maps the parent writes for each child, and the ids without a user namespace.
    pub user: UserPlan,
    /// Limits, the host's layout and the chosen parent; `None` when neither a limit nor a
    /// cgroup parent was asked for.
    pub cgroup: Option<CgroupPlan>,
    /// What the child does the same way in every spawn.
    pub child: ChildSetup,
    /// The image's run defaults, for every command (`spawn::prepare`); `None` without one.
    pub image: Option<ImageDefaults>,
}

/// Checks the spec and compiles every wing's plan.
pub(crate) fn build(spec: &Spec) -> Result<SandboxPlan, ConfigError> {
    let caller = Caller::current();
    let (ns, network) = net::mode::plan::compile(spec.network.as_ref(), spec.namespaces, caller.is_root())?;
    let network = net::mode::plan::place_egress(network, spec.caps.keep);
    let user = user::plan::compile(&spec.user_mapping, ns, &caller)?;
    let child = ChildSetup {
        setup_ids: user.setup_ids,
        uts: uts::plan::compile(spec.hostname.as_ref(), spec.domainname.as_ref(), ns)?,
        mounts: mount::plan::compile(&spec.mount, ns, user.host_root_inside())?,
        rlimits: rlimit::plan::compile(&rlimits_with_init(&spec.rlimits, spec.init && ns.contains(Namespaces::PID)))?,
        time: time::plan::compile(spec.time_offsets, ns)?,
        net: net::plan::compile(ns),
        // A joined network namespace that is the caller's own is the host's to it.
        sysctl: crate::sysctl::compile(
            &spec.sysctls,
            ns,
            ns.contains(Namespaces::NET) || network.joined().is_some_and(|fd| !net::mode::netns::is_own(fd)),
        )?,
        unshare_cgroup: ns.cgroup_flag(),
        new_session: spec.new_session,
        caps: caps::plan::compile(&spec.caps, ns)?,
        die_with_parent: spec.die_with_parent,
        no_new_privs: spec.no_new_privs,
        #[cfg(feature = "landlock")]
        landlock: crate::landlock::plan::compile(spec.landlock.as_ref(), may_restrict(spec))?,
        // Without no_new_privs, a filter goes in before the capabilities go, in a sandbox
        // without isobox's init (which would run under it).
        // It needs CAP_SYS_ADMIN then: a user namespace's, or a root caller's.
        seccomp: seccomp::plan::compile(
            &spec.seccomp,
            may_restrict(spec),
            !spec.init && (ns.contains(Namespaces::USER) || caller.is_root()),
        )?,
        init: spec.init && ns.contains(Namespaces::PID),
    };
    let limits = limits_with_init(&spec.limits, child.init);
    let place = cgroup::plan::Where { parent: spec.cgroup_parent.as_deref(), name: spec.cgroup_name.as_deref() };
    let cgroup = cgroup::plan::compile(&limits, place, memory_floor(&child))?;
    mount::overlay::upper::at_build(&child.mounts, ns, cgroup.is_some())?;
    let image = crate::image::run::plan::compile_for(spec.image.as_ref(), ns.contains(Namespaces::USER))?;
    Ok(SandboxPlan { namespaces: ns, network, caller, user, cgroup, child, image })
}

/// The init is one more process in the sandbox's cgroup: the program keeps the number of
/// processes its pids limit asked for.
fn limits_with_init(limits: &Limits, init: bool) -> Limits {
    let mut limits = limits.clone();
    if init {
        // Zero stays zero, for the limit's own check to refuse.
        limits.pids_max = limits.pids_max.map(|n| if n == 0 { 0 } else { n.saturating_add(1) });
    }
    limits
}

/// RLIMIT_NPROC counts the init too (its processes of the same user): one more, so that the
/// program keeps the number asked for (unlimited stays unlimited).
fn rlimits_with_init(rlimits: &[Rlimit], init: bool) -> Vec<Rlimit> {
    let one_more = |n: u64| if n == libc::RLIM_INFINITY { n } else { n.saturating_add(1) };
    let mut rlimits = rlimits.to_vec();
    for r in rlimits.iter_mut().filter(|r| init && r.resource == Resource::NProc) {
        (r.soft, r.hard) = (one_more(r.soft), one_more(r.hard));
    }
    rlimits
}

/// Whether the child may install a seccomp filter or restrict itself with Landlock at the end
/// of its setup: the kernel wants no_new_privs, or CAP_SYS_ADMIN (in its user namespace),
/// which a kept capability still is at that point.
fn may_restrict(spec: &Spec) -> bool {
    spec.no_new_privs || spec.caps.keep.contains(crate::caps::spec::Capabilities::SYS_ADMIN)
}

/// What the memory floor sets aside for a command's arguments and environment (twice their
/// size: the strings and the pages exec copies them into).
pub(crate) const ARGS_RESERVE: u64 = 1 << 20;

/// The least memory max (or high) a sandbox accepts: what its setup may charge to its
/// cgroup before exec, with a wide margin. Measured: about 0.3 MiB for the full sandbox with
/// the default root (clone, namespaces, ~60 mount operations); the copy of the host's mount
/// table and each mount grow it. Until exec the child shares the caller's memory, and an OOM
/// kill then would take the caller with it; after exec only the program is at stake.
/// The floor includes [`ARGS_RESERVE`] for the arguments and environment exec copies; a
/// command with more is checked at spawn.
fn memory_floor(child: &ChildSetup) -> u64 {
    const BASE: u64 = 8 << 20;
    const PER_MOUNT: u64 = 8 << 10;
    let host_mounts = std::fs::read_to_string("/proc/self/mountinfo").map_or(0, |t| t.lines().count()) as u64;
    BASE + PER_MOUNT * (host_mounts + child.mounts.mount_count()) + landlock_floor(child)
}

/// The child builds its Landlock ruleset itself before exec, charged to its cgroup: about
/// 400 bytes a rule measured (20,000 rules over the plain floor got the caller OOM-killed);
/// 1 KiB each.
#[cfg(feature = "landlock")]
fn landlock_floor(child: &ChildSetup) -> u64 {
    const PER_RULE: u64 = 1 << 10;
    child.landlock.as_ref().map_or(0, |l| PER_RULE * (l.paths.len() + l.ports.len()) as u64)
}

#[cfg(not(feature = "landlock"))]
fn landlock_floor(_: &ChildSetup) -> u64 {
    0
}

#[cfg(test)]
#[path = "build_tests.rs"]
mod tests;
