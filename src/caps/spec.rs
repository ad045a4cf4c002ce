//! Which capabilities the program keeps (**parent**: plain data, public [`Capabilities`]).

use std::fmt;

bitflags::bitflags! {
    /// A set of Linux capabilities (capabilities(7)): one flag per `CAP_*` number, named as
    /// the kernel names it without the `CAP_` prefix (`1 << n` is capability number `n`).
    ///
    /// A sandbox keeps none by default; [`SandboxBuilder::capabilities`] chooses the set it
    /// keeps, e.g. [`Capabilities::DOCKER_DEFAULT`].
    ///
    /// [`SandboxBuilder::capabilities`]: crate::SandboxBuilder::capabilities
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Capabilities: u64 {
        /// CAP_CHOWN (0): change a file's owner and group.
        const CHOWN = 1 << 0;
        /// CAP_DAC_OVERRIDE (1): bypass file read, write and execute permission checks.
        const DAC_OVERRIDE = 1 << 1;
        /// CAP_DAC_READ_SEARCH (2): bypass file read and directory search checks.
        const DAC_READ_SEARCH = 1 << 2;
        /// CAP_FOWNER (3): bypass checks that the file's owner is the caller.
        const FOWNER = 1 << 3;
        /// CAP_FSETID (4): keep set-user-ID and set-group-ID bits when a file is modified.
        const FSETID = 1 << 4;
        /// CAP_KILL (5): send signals to any process.
        const KILL = 1 << 5;
        /// CAP_SETGID (6): change group ids and supplementary groups.
        const SETGID = 1 << 6;
        /// CAP_SETUID (7): change user ids.
        const SETUID = 1 << 7;
        /// CAP_SETPCAP (8): change the bounding set and grant inheritable capabilities.
        const SETPCAP = 1 << 8;
        /// CAP_LINUX_IMMUTABLE (9): set the immutable and append-only file attributes.
        const LINUX_IMMUTABLE = 1 << 9;
        /// CAP_NET_BIND_SERVICE (10): bind ports below 1024.
        const NET_BIND_SERVICE = 1 << 10;
        /// CAP_NET_BROADCAST (11): broadcast and listen to multicast (unused by Linux).
        const NET_BROADCAST = 1 << 11;
        /// CAP_NET_ADMIN (12): configure interfaces, routes, firewall and traffic control.
        const NET_ADMIN = 1 << 12;
        /// CAP_NET_RAW (13): use raw and packet sockets.
        const NET_RAW = 1 << 13;
        /// CAP_IPC_LOCK (14): lock memory.
        const IPC_LOCK = 1 << 14;
        /// CAP_IPC_OWNER (15): bypass System V IPC permission checks.
        const IPC_OWNER = 1 << 15;
        /// CAP_SYS_MODULE (16): load and unload kernel modules.
        const SYS_MODULE = 1 << 16;
        /// CAP_SYS_RAWIO (17): raw I/O: ioperm, iopl, /dev/mem.
        const SYS_RAWIO = 1 << 17;
        /// CAP_SYS_CHROOT (18): chroot and setns of a mount namespace.
        const SYS_CHROOT = 1 << 18;
        /// CAP_SYS_PTRACE (19): trace any process.
        const SYS_PTRACE = 1 << 19;
        /// CAP_SYS_PACCT (20): process accounting.
        const SYS_PACCT = 1 << 20;
        /// CAP_SYS_ADMIN (21): mount, namespaces and many other administrative operations.
        const SYS_ADMIN = 1 << 21;
        /// CAP_SYS_BOOT (22): reboot and kexec.
        const SYS_BOOT = 1 << 22;
        /// CAP_SYS_NICE (23): raise priorities and set other processes' scheduling.
        const SYS_NICE = 1 << 23;
        /// CAP_SYS_RESOURCE (24): raise resource limits and override quotas.
        const SYS_RESOURCE = 1 << 24;
        /// CAP_SYS_TIME (25): set the system clock.
        const SYS_TIME = 1 << 25;
        /// CAP_SYS_TTY_CONFIG (26): vhangup and privileged terminal ioctls.
        const SYS_TTY_CONFIG = 1 << 26;
        /// CAP_MKNOD (27): create device files.
        const MKNOD = 1 << 27;
        /// CAP_LEASE (28): take leases on files the caller does not own.
        const LEASE = 1 << 28;
        /// CAP_AUDIT_WRITE (29): write to the kernel's audit log.
        const AUDIT_WRITE = 1 << 29;
        /// CAP_AUDIT_CONTROL (30): configure kernel auditing.
        const AUDIT_CONTROL = 1 << 30;
        /// CAP_SETFCAP (31): set file capabilities.
        const SETFCAP = 1 << 31;
        /// CAP_MAC_OVERRIDE (32): override mandatory access control.
        const MAC_OVERRIDE = 1 << 32;
        /// CAP_MAC_ADMIN (33): configure mandatory access control.
        const MAC_ADMIN = 1 << 33;
        /// CAP_SYSLOG (34): privileged syslog operations.
        const SYSLOG = 1 << 34;
        /// CAP_WAKE_ALARM (35): set alarms that wake the system.
        const WAKE_ALARM = 1 << 35;
        /// CAP_BLOCK_SUSPEND (36): block system suspend.
        const BLOCK_SUSPEND = 1 << 36;
        /// CAP_AUDIT_READ (37): read the audit log over multicast netlink.
        const AUDIT_READ = 1 << 37;
        /// CAP_PERFMON (38): performance monitoring (Linux 5.8).
        const PERFMON = 1 << 38;
        /// CAP_BPF (39): privileged BPF operations (Linux 5.8).
        const BPF = 1 << 39;
        /// CAP_CHECKPOINT_RESTORE (40): checkpoint and restore operations (Linux 5.9).
        const CHECKPOINT_RESTORE = 1 << 40;
    }
}

impl Capabilities {
    /// The 14 capabilities Docker and containerd give a container by default: CHOWN,
    /// DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP,
    /// NET_BIND_SERVICE, SYS_CHROOT, KILL and AUDIT_WRITE.
    pub const DOCKER_DEFAULT: Capabilities = Capabilities::CHOWN
        .union(Capabilities::DAC_OVERRIDE)
        .union(Capabilities::FSETID)
        .union(Capabilities::FOWNER)
        .union(Capabilities::MKNOD)
        .union(Capabilities::NET_RAW)
        .union(Capabilities::SETGID)
        .union(Capabilities::SETUID)
        .union(Capabilities::SETFCAP)
        .union(Capabilities::SETPCAP)
        .union(Capabilities::NET_BIND_SERVICE)
        .union(Capabilities::SYS_CHROOT)
        .union(Capabilities::KILL)
        .union(Capabilities::AUDIT_WRITE);

    /// The capability numbered `number`, if it fits in the set (0–63; those past
    /// CHECKPOINT_RESTORE have no name here).
    #[must_use]
    pub const fn from_number(number: u32) -> Option<Capabilities> {
        if number < u64::BITS {
            Some(Capabilities::from_bits_retain(1 << number))
        } else {
            None
        }
    }

    /// The numbers of the capabilities in the set, ascending.
    pub fn numbers(self) -> impl Iterator<Item = u32> {
        (0..u64::BITS).filter(move |n| self.bits() & (1 << n) != 0)
    }
}

impl Default for Capabilities {
    /// No capabilities.
    fn default() -> Capabilities {
        Capabilities::empty()
    }
}

impl fmt::Display for Capabilities {
    /// `CAP_CHOWN | CAP_KILL`, `capability 50` for a number without a name, or `no capabilities`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("no capabilities");
        }
        for (i, number) in self.numbers().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            let one = Capabilities::from_bits_retain(1 << number);
            match one.iter_names().next() {
                Some((name, _)) => write!(f, "CAP_{name}")?,
                None => write!(f, "capability {number}")?,
            }
        }
        Ok(())
    }
}

/// What the builder records: the set kept and the part of it raised into the ambient set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CapsSpec {
    pub keep: Capabilities,
    pub ambient: Capabilities,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_the_kernels_numbers() {
        assert_eq!(Capabilities::CHOWN.bits(), 1);
        assert_eq!(Capabilities::SYS_ADMIN.bits(), 1 << 21);
        assert_eq!(Capabilities::CHECKPOINT_RESTORE.bits(), 1 << 40);
        assert_eq!(Capabilities::all().bits(), (1 << 41) - 1);
        assert_eq!(Capabilities::from_number(27), Some(Capabilities::MKNOD));
        assert_eq!(Capabilities::from_number(64), None);
    }

    #[test]
    fn docker_default_is_dockers_mask() {
        // Docker's CapEff for a container as root: 00000000a80425fb.
        assert_eq!(Capabilities::DOCKER_DEFAULT.bits(), 0xa804_25fb);
        assert_eq!(Capabilities::DOCKER_DEFAULT.iter().count(), 14);
    }

    #[test]
    fn display_names_each_capability() {
        assert_eq!(Capabilities::empty().to_string(), "no capabilities");
        assert_eq!((Capabilities::KILL | Capabilities::CHOWN).to_string(), "CAP_CHOWN | CAP_KILL");
        let unnamed = Capabilities::from_bits_retain(1 << 50) | Capabilities::BPF;
        assert_eq!(unnamed.to_string(), "CAP_BPF | capability 50");
    }
}
