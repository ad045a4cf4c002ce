//! Which namespaces a sandbox gets (**parent**: turned into clone flags before spawning).

use bitflags::bitflags;

bitflags! {
    /// The set of namespaces a sandbox is given. See namespaces(7).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Namespaces: u32 {
        /// Own user and group ids; makes every other namespace possible without root.
        const USER = 1 << 0;
        /// Own process ids: the program is pid 1 and sees only its own processes.
        const PID = 1 << 1;
        /// Own mount table: needed for `rootfs`, `mount` and the default root.
        const MOUNT = 1 << 2;
        /// Own hostname and NIS domain name.
        const UTS = 1 << 3;
        /// Own System V IPC objects and POSIX message queues.
        const IPC = 1 << 4;
        /// Own network stack with only a loopback interface, brought up.
        const NET = 1 << 5;
        /// Own view of the cgroup tree, rooted at the sandbox's cgroup. Entered after the child
        /// has been placed in its cgroup.
        const CGROUP = 1 << 6;
        /// Own CLOCK_MONOTONIC and CLOCK_BOOTTIME offsets. Needs Linux 6.2 or later: the
        /// program enters the namespace at exec only since 6.2, so `build()` refuses older
        /// kernels.
        const TIME = 1 << 7;
    }
}

impl Namespaces {
    /// The flags passed to clone: every namespace that can be entered at birth. Cgroup and
    /// time namespaces are unshared by the child later (see [`Namespaces::time_flag`]).
    pub(crate) fn clone_flags(self) -> libc::c_int {
        let table = [
            (Namespaces::USER, libc::CLONE_NEWUSER),
            (Namespaces::PID, libc::CLONE_NEWPID),
            (Namespaces::MOUNT, libc::CLONE_NEWNS),
            (Namespaces::UTS, libc::CLONE_NEWUTS),
            (Namespaces::IPC, libc::CLONE_NEWIPC),
            (Namespaces::NET, libc::CLONE_NEWNET),
        ];
        table.iter().filter(|(ns, _)| self.contains(*ns)).fold(0, |acc, (_, flag)| acc | flag)
    }

    /// The flag the child unshares right after release: a time namespace's offsets must be
    /// written before any process is in it, and the program enters it at exec.
    pub(crate) fn time_flag(self) -> libc::c_int {
        if self.contains(Namespaces::TIME) {
            libc::CLONE_NEWTIME
        } else {
            0
        }
    }

    /// The flag the child unshares once it is in its cgroup, so the namespace's root is the
    /// sandbox's own cgroup.
    pub(crate) fn cgroup_flag(self) -> libc::c_int {
        if self.contains(Namespaces::CGROUP) {
            libc::CLONE_NEWCGROUP
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_flags_leave_cgroup_and_time_to_the_child() {
        let ns = Namespaces::all();
        let flags = ns.clone_flags();
        assert_eq!(flags & libc::CLONE_NEWCGROUP, 0);
        assert_ne!(flags & libc::CLONE_NEWUSER, 0);
        assert_ne!(flags & libc::CLONE_NEWNET, 0);
        assert_eq!((ns.time_flag(), ns.cgroup_flag()), (libc::CLONE_NEWTIME, libc::CLONE_NEWCGROUP));
        assert_eq!((Namespaces::USER.time_flag(), Namespaces::USER.cgroup_flag()), (0, 0));
        assert_eq!(Namespaces::empty().clone_flags(), 0);
    }
}
