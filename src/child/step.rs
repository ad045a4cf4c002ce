//! The named steps of the child's setup (public: a [`SetupError`](super::setup_error::SetupError)
//! says which one failed). Written by the **child** into its failure record, read by the
//! **parent**.

use std::fmt;

/// One step of the child's setup, listed in the order the child runs them. Each occurs once,
/// but for [`Step::DeathSignal`], set again after each change of ids, and [`Step::Rlimit`],
/// whose open-files limit is set after the descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
#[non_exhaustive]
pub enum Step {
    /// Closing the parent's ends of the control pipes.
    ClosePipes = 1,
    /// Arranging to die with the parent (PR_SET_PDEATHSIG).
    DeathSignal,
    /// Waiting for the parent to release the child (after it wrote the id maps).
    WaitGo,
    /// `Child::exec`: joining the running sandbox's namespaces (setns through its pidfd;
    /// index 1 is the cgroup namespace, joined once in its cgroup).
    Setns,
    /// `Child::exec`: starting the process that runs the command inside the sandbox's pid
    /// namespace (a clone, in the sandbox's cgroup on cgroup v2).
    StartJoined,
    /// Entering the time namespace.
    UnshareTime,
    /// Writing the time namespace's clock offsets.
    TimeOffsets,
    /// Becoming the sandbox's root (its ids inside) once the id maps are written.
    SetupIds,
    /// One operation of the mount plan (the object says which).
    Mount,
    /// Mounting the overlay root, an operation of the mount plan where the root is made (the
    /// object names the layer, the upper or the option).
    Overlay,
    /// Setting the hostname.
    Hostname,
    /// Setting the NIS domain name.
    Domainname,
    /// Bringing up the loopback interface of the new network namespace.
    Loopback,
    /// Setting one resource limit (the object says which).
    Rlimit,
    /// Waiting for the parent to make the sandbox's cgroup (hosts with cgroup v1).
    WaitCgroup,
    /// Joining the sandbox's cgroup (the object names the file).
    JoinCgroup,
    /// Entering the cgroup namespace.
    UnshareCgroup,
    /// Starting a new session (setsid), without a controlling terminal.
    NewSession,
    /// Clearing the ambient capabilities.
    ClearAmbient,
    /// Dropping one capability from the bounding set (the object says which).
    DropBounding,
    /// Keeping the permitted capabilities across the uid switch (PR_SET_KEEPCAPS).
    KeepCaps,
    /// Setting the supplementary groups.
    Groups,
    /// Switching to the group id inside.
    Gid,
    /// Switching to the user id inside.
    Uid,
    /// Setting the effective, permitted and inheritable capabilities (capset).
    Capabilities,
    /// Raising one ambient capability (the object says which).
    AmbientCapabilities,
    /// Setting no_new_privs.
    NoNewPrivs,
    /// Arranging stdio and passed descriptors; closing the rest on exec.
    Fds,
    /// Changing to the working directory.
    Chdir,
    /// Resetting signal dispositions and the signal mask.
    Signals,
    /// Restricting the program with Landlock (feature `landlock`; the object names the rule's
    /// path).
    Landlock,
    /// Starting the program beside isobox's init (with a pid namespace and the init on).
    StartProgram,
    /// Executing isobox's init as the sandbox's first process.
    StartInit,
    /// Installing the seccomp filter.
    Seccomp,
    /// Handing the seccomp listener to the parent (with notify rules).
    NotifyHandoff,
    /// Executing the program.
    Exec,
    /// Writing one of the sandbox's sysctls (the object names its file); run before the mounts,
    /// numbered last.
    Sysctl,
}

/// Every step, for decoding.
pub(crate) const STEPS: [Step; 37] = [
    Step::ClosePipes,
    Step::DeathSignal,
    Step::WaitGo,
    Step::Setns,
    Step::StartJoined,
    Step::UnshareTime,
    Step::TimeOffsets,
    Step::SetupIds,
    Step::Mount,
    Step::Overlay,
    Step::Hostname,
    Step::Domainname,
    Step::Loopback,
    Step::Rlimit,
    Step::WaitCgroup,
    Step::JoinCgroup,
    Step::UnshareCgroup,
    Step::NewSession,
    Step::ClearAmbient,
    Step::DropBounding,
    Step::KeepCaps,
    Step::Groups,
    Step::Gid,
    Step::Uid,
    Step::Capabilities,
    Step::AmbientCapabilities,
    Step::NoNewPrivs,
    Step::Fds,
    Step::Chdir,
    Step::Signals,
    Step::Landlock,
    Step::StartProgram,
    Step::StartInit,
    Step::Seccomp,
    Step::NotifyHandoff,
    Step::Exec,
    Step::Sysctl,
];

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::ClosePipes => "closing the parent's pipe ends",
            Step::DeathSignal => "setting the parent-death signal",
            Step::WaitGo => "waiting for the parent",
            Step::Setns => "joining the sandbox's namespaces",
            Step::StartJoined => "starting the process inside the sandbox",
            Step::SetupIds => "becoming the sandbox's root",
            Step::UnshareTime => "entering the time namespace",
            Step::TimeOffsets => "writing time namespace offsets",
            Step::Mount => "mount",
            Step::Overlay => "overlay",
            Step::Hostname => "setting the hostname",
            Step::Domainname => "setting the NIS domain name",
            Step::Loopback => "bringing up loopback",
            Step::Rlimit => "rlimit",
            Step::WaitCgroup => "waiting for the parent to make the cgroup",
            Step::JoinCgroup => "joining the sandbox's cgroup",
            Step::UnshareCgroup => "entering the cgroup namespace",
            Step::NewSession => "starting a new session",
            Step::ClearAmbient => "clearing ambient capabilities",
            Step::DropBounding => "dropping from the bounding set",
            Step::KeepCaps => "keeping capabilities across the uid switch",
            Step::Groups => "setting supplementary groups",
            Step::Gid => "switching group id",
            Step::Uid => "switching user id",
            Step::Capabilities => "setting capabilities",
            Step::AmbientCapabilities => "raising an ambient capability",
            Step::NoNewPrivs => "setting no_new_privs",
            Step::Fds => "arranging file descriptors",
            Step::Chdir => "changing directory",
            Step::Signals => "resetting signals",
            Step::Landlock => "restricting with Landlock",
            Step::StartProgram => "starting the program beside the init",
            Step::StartInit => "executing isobox's init",
            Step::Seccomp => "installing the seccomp filter",
            Step::NotifyHandoff => "handing the seccomp listener to the parent",
            Step::Exec => "exec",
            Step::Sysctl => "writing a sysctl",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_listed_once_each_in_their_numbering() {
        for (i, step) in STEPS.iter().enumerate() {
            assert_eq!(*step as usize, i + 1, "{step:?}");
        }
    }
}
