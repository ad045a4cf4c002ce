//! `Sandbox::builder()` (**parent**): setters record a [`Spec`] and cannot fail; `build()`
//! checks it and compiles the plans.

use std::ffi::OsString;
use std::path::Path;

use crate::build::{self, spec::Spec};
use crate::caps::spec::Capabilities;
use crate::cgroup::spec::IoLimit;
use crate::error::Error;
use crate::image::run::spec::ImageSpec;
use crate::image::store::image::Image;
#[cfg(feature = "landlock")]
use crate::landlock::spec::Landlock;
use crate::mount::overlay::spec::{OverlayRoot, Upper};
use crate::mount::spec::Mount;
use crate::namespaces::Namespaces;
use crate::net::mode::spec::Network;
use crate::rlimit::spec::{Resource, Rlimit};
use crate::sandbox::Sandbox;
use crate::seccomp::spec::Seccomp;
use crate::time::spec::TimeOffsets;
use crate::user::spec::UserMapping;

/// Records a sandbox's configuration; [`SandboxBuilder::build`] validates and prepares it.
#[derive(Debug, Clone, Default)]
pub struct SandboxBuilder {
    pub(crate) spec: Spec,
}

impl Sandbox {
    /// Starts a configuration: no namespaces, no mounts, the defaults listed on each setter.
    #[must_use]
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }
}

impl SandboxBuilder {
    /// The namespaces to create (default: none).
    pub fn namespaces(&mut self, namespaces: Namespaces) -> &mut Self {
        self.spec.namespaces = namespaces;
        self
    }

    /// The sandbox's network (default: as [`namespaces`](Self::namespaces) says, a network
    /// namespace with loopback only with `Namespaces::NET`, the host's without). Once set,
    /// the mode wins over the `NET` bit whichever setter comes last: [`Network::Host`] is
    /// no network namespace (the explicit loosening), the others give one. See [`Network`].
    pub fn network(&mut self, network: Network) -> &mut Self {
        self.spec.network = Some(network);
        self
    }

    /// Pivots into `dir` (an absolute host path) as the sandbox's root; nothing of the host
    /// stays reachable. Without it, and with a mount namespace, the sandbox gets the default
    /// root described in the crate docs. Needs `Namespaces::MOUNT`.
    pub fn rootfs(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.spec.mount.rootfs = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Makes the sandbox's root an overlay of read-only layer directories with a writable upper
    /// (a tmpfs, or a directory per spawn): an image's root. One or the other of this and
    /// [`rootfs`](Self::rootfs); `build()` checks the layers (at most 500, existing
    /// directories, none inside another or the upper). Mounted with `lowerdir+` one layer at a
    /// time on Linux 6.8 and later, else with the classic option string, which holds as many
    /// layers as fit in one page (`build()` says how many). In a user namespace overlayfs is
    /// mounted with `userxattr` (Linux 5.11). Needs `Namespaces::MOUNT`; see [`OverlayRoot`].
    pub fn overlay_root(&mut self, root: OverlayRoot) -> &mut Self {
        self.spec.mount.overlay = Some(root);
        self
    }

    /// Runs `image` (from an [`ImageStore`](crate::ImageStore)): the root is an overlay of its
    /// layers (each once, where it is topmost) under a tmpfs upper, as
    /// [`overlay_root`](Self::overlay_root) makes it, and its config's run defaults are the
    /// defaults of every command the sandbox runs (spawns, pools and `Child::exec`), the way
    /// Docker applies them. A command's own setting wins over each:
    ///
    /// - `Env` is the base environment (in place of the default `PATH`, which is added if the
    ///   image sets none); [`Command::env`](crate::Command::env) adds or overrides,
    ///   `env_remove` removes, `env_clear` and `inherit_env` start from nothing or the host's;
    /// - `WorkingDir` is the working directory unless the command sets its own;
    /// - `User` (`user`, `uid`, `user:group`, `uid:gid`) is resolved at `build()` against the
    ///   image's `/etc/passwd` and `/etc/group` (read from its layers, top first) into uid,
    ///   gid and supplementary groups (the groups that list the user); an unknown name fails
    ///   `build()` with [`ImageRunError`](crate::ImageRunError). A command that sets any of
    ///   its uid, gid or groups takes none of the image's. No `User`: the sandbox's default
    ///   (root inside a user namespace);
    /// - `Entrypoint` and `Cmd` give [`Sandbox::image_command`](crate::Sandbox::image_command);
    ///   a plain `Command::new` runs what it names, with the defaults above.
    ///
    /// Needs `Namespaces::MOUNT`. The layers are read by the sandbox's root: for a root
    /// caller whose sandbox has a user namespace, import into a store opened with
    /// [`UnpackOptions::for_user_namespace`](crate::UnpackOptions::for_user_namespace), so
    /// the image's files belong to the sandbox's root (overlayfs cannot copy up a file owned
    /// by an id the namespace does not map: writes to it fail with EOVERFLOW).
    pub fn image(&mut self, image: &Image) -> &mut Self {
        self.image_with(image, Upper::default(), false)
    }

    /// [`image`](Self::image) with the sandbox's writes going to `upper` ([`Upper::Dir`]: a
    /// directory per spawn, kept after the sandbox with `keep_upper`, see [`OverlayRoot`]).
    pub fn image_with(&mut self, image: &Image, upper: Upper, keep_upper: bool) -> &mut Self {
        let spec = ImageSpec::of(image);
        self.spec.mount.overlay = Some(OverlayRoot::new(&spec.layers).upper(upper).keep_upper(keep_upper));
        self.spec.image = Some(spec);
        self
    }

    /// Adds a mount, applied after the root is set up, in the order added.
    pub fn mount(&mut self, mount: Mount) -> &mut Self {
        self.spec.mount.mounts.push(mount);
        self
    }

    /// Sets the propagation of the sandbox's root mount once the sandbox is in it (with
    /// `recursive`, of every mount below too): an OCI config's `rootfsPropagation`. The
    /// sandbox's mount namespace is private to the caller's whatever this says.
    pub fn root_propagation(&mut self, propagation: crate::mount::spec::Propagation, recursive: bool) -> &mut Self {
        self.spec.mount.root_propagation = Some((propagation, recursive));
        self
    }

    /// Makes the root mount itself read-only once every mount is in place (mounts below it
    /// keep their own mode).
    pub fn readonly_root(&mut self, readonly: bool) -> &mut Self {
        self.spec.mount.readonly_root = readonly;
        self
    }

    /// Hides the sensitive entries of every procfs isobox mounts
    /// ([`MASKED_PROC_PATHS`](crate::MASKED_PROC_PATHS): kernel memory, keys, timers) and makes
    /// the kernel's tunables read-only ([`READ_ONLY_PROC_PATHS`](crate::READ_ONLY_PROC_PATHS):
    /// /proc/sys, /proc/sysrq-trigger…). Default: on. Turning it off is a loosening: the program
    /// can then read /proc/kcore-style files its user may read, and write the tunables its
    /// capabilities allow.
    pub fn masked_paths(&mut self, on: bool) -> &mut Self {
        self.spec.mount.masked_paths = on;
        self
    }

    /// The hostname inside (needs `Namespaces::UTS`; at most 64 bytes).
    pub fn hostname(&mut self, name: impl Into<OsString>) -> &mut Self {
        self.spec.hostname = Some(name.into());
        self
    }

    /// The NIS domain name inside (needs `Namespaces::UTS`; at most 64 bytes).
    pub fn domainname(&mut self, name: impl Into<OsString>) -> &mut Self {
        self.spec.domainname = Some(name.into());
        self
    }

    /// Sets a resource limit in the sandbox before exec. Raising a hard limit needs
    /// CAP_SYS_RESOURCE on the host.
    pub fn rlimit(&mut self, resource: Resource, soft: u64, hard: u64) -> &mut Self {
        self.spec.rlimits.push(Rlimit { resource, soft, hard });
        self
    }

    /// How ids inside the user namespace map to the host's (default
    /// [`UserMapping::Unprivileged`]: never host root).
    pub fn user_mapping(&mut self, mapping: UserMapping) -> &mut Self {
        self.spec.user_mapping = mapping;
        self
    }

    /// Clock offsets for the time namespace (needs `Namespaces::TIME`).
    pub fn time_offsets(&mut self, offsets: TimeOffsets) -> &mut Self {
        self.spec.time_offsets = Some(offsets);
        self
    }

    /// Kill the sandbox with SIGKILL when the thread that spawned it exits (default: on).
    /// Linux ties the parent-death signal to the spawning *thread*: spawn from a thread that
    /// lives as long as the sandbox should, or turn this off.
    pub fn die_with_parent(&mut self, on: bool) -> &mut Self {
        self.spec.die_with_parent = on;
        self
    }

    /// With a pid namespace, run isobox's init as the sandbox's pid 1 (default: on). The
    /// program then runs as pid 2 and behaves as it does outside: signals sent with
    /// [`Child::signal`](crate::Child::signal) reach it (a program without a handler for
    /// SIGTERM dies of it; as pid 1 it would ignore it), orphans it leaves are reaped, and
    /// the exit report is the program's own status. The init is a 14 KiB static program of
    /// isobox's (executed from a sealed memfd) with the program's ids, capabilities and
    /// Landlock rules, under a seccomp filter of its own that allows only its few calls; it
    /// is not dumpable, so the program cannot ptrace it (unless it keeps CAP_SYS_PTRACE, and
    /// then the init's filter holds). It counts against [`pids_max`](Self::pids_max) and
    /// `RLIMIT_NPROC` as one process, which isobox adds to the limits it writes. It cannot
    /// forward SIGSTOP (the kernel stops the init instead; use SIGTSTP). Without a cgroup,
    /// [`Child::wait`](crate::Child::wait) returns on the init's report of the program's
    /// end, and the init's own exit (the namespaces' teardown) completes in the background.
    ///
    /// Off, the program is pid 1 itself: the kernel gives it only the signals it handles
    /// (SIGKILL always), and zombies of orphans stay until it waits for them.
    pub fn init(&mut self, on: bool) -> &mut Self {
        self.spec.init = on;
        self
    }

    /// Set no_new_privs so that setuid binaries and file capabilities grant nothing inside
    /// (default: on).
    pub fn no_new_privs(&mut self, on: bool) -> &mut Self {
        self.spec.no_new_privs = on;
        self
    }

    /// Confines the program with a Landlock ruleset (feature `landlock`), applied by the child
    /// after its mounts, last before exec. Needs no_new_privs (on by default; or a kept
    /// `CAP_SYS_ADMIN`) and a kernel with
    /// Landlock; `build()` checks the rules against the kernel's Landlock ABI.
    #[cfg(feature = "landlock")]
    pub fn landlock(&mut self, ruleset: Landlock) -> &mut Self {
        self.spec.landlock = Some(ruleset);
        self
    }

    /// The capabilities the program keeps (default: none). Every other capability leaves all
    /// five sets (bounding, permitted, effective, inheritable, ambient), also for uid 0 in a
    /// user namespace and for a root caller without one, so neither exec nor a setuid program
    /// can bring it back. Running as uid 0 the program has the kept set effective; running as
    /// another uid ([`Command::uid`](crate::Command::uid)) it keeps across exec only those
    /// also raised with [`ambient_capabilities`](Self::ambient_capabilities). In a user
    /// namespace they count only there and over what it owns.
    ///
    /// `build()` refuses a capability the running kernel does not know
    /// (`ConfigError::UnknownCapability`) and, without a user namespace, one the caller does
    /// not hold (`ConfigError::CapabilityNotHeld`). A caller without CAP_SETPCAP and without
    /// a user namespace (an ordinary user) holds no capabilities and cannot shrink its
    /// bounding set, so the program keeps that bounding set: with no_new_privs (the default)
    /// it grants nothing at exec.
    pub fn capabilities(&mut self, keep: Capabilities) -> &mut Self {
        self.spec.caps.keep = keep;
        self
    }

    /// Capabilities raised into the ambient set, so that a program running as a non-root uid
    /// has them effective after exec (default: none). Each must also be kept
    /// ([`capabilities`](Self::capabilities)), else `build()` fails with
    /// `ConfigError::AmbientNotKept`. They are also the only inheritable capabilities, so a
    /// file's inheritable capabilities add nothing else.
    pub fn ambient_capabilities(&mut self, ambient: Capabilities) -> &mut Self {
        self.spec.caps.ambient = ambient;
        self
    }

    /// Starts the program in a session of its own (setsid; default: on), so it has no
    /// controlling terminal: it cannot open `/dev/tty`, push input into the caller's terminal
    /// with the TIOCSTI ioctl, or take the terminal over, even with the terminal on its stdin.
    /// The terminal's signals (Ctrl-C) then reach the caller, not the program; with
    /// [`die_with_parent`](Self::die_with_parent) the program dies with the caller.
    ///
    /// Turn it off for an interactive program such as a shell on the caller's terminal: it
    /// then gets Ctrl-C and job control, but it can also use the caller's terminal as its
    /// own, including TIOCSTI to type commands into the caller's shell after it exits, where
    /// the kernel allows it (`/proc/sys/dev/tty/legacy_tiocsti` is 1, always so before Linux
    /// 6.2). Only for programs trusted with that terminal.
    pub fn new_session(&mut self, on: bool) -> &mut Self {
        self.spec.new_session = on;
        self
    }

    /// The system-call filter the program runs under (default: [`Seccomp::default_profile`];
    /// [`Seccomp::none`] for none). Installed last before exec; needs no_new_privs (or a kept
    /// `CAP_SYS_ADMIN`).
    pub fn seccomp(&mut self, filter: Seccomp) -> &mut Self {
        self.spec.seccomp = filter;
        self
    }

    /// Caps memory use at `bytes` (v2 `memory.max`, v1 `memory.limit_in_bytes`); beyond it the
    /// kernel reclaims, then OOM-kills inside the sandbox.
    pub fn memory_max(&mut self, bytes: u64) -> &mut Self {
        self.spec.limits.memory_max = Some(bytes);
        self
    }

    /// Throttles memory use above `bytes` (v2 `memory.high` only: spawn fails on v1).
    pub fn memory_high(&mut self, bytes: u64) -> &mut Self {
        self.spec.limits.memory_high = Some(bytes);
        self
    }

    /// Protects `bytes` of the sandbox's memory from reclaim (v2 `memory.min`; spawn fails on
    /// v1, which has no such guarantee): while its use is at or below `bytes`, the kernel takes
    /// none of it back, even at the cost of an OOM kill elsewhere. Against a neighbour under the
    /// same parent (reclaim at the parent's own limit) the protection holds as written; against
    /// pressure from above the parent, the kernel grants at most what every ancestor is itself
    /// protected by (cgroup v2 semantics). The exit report counts no event for it; see
    /// [`memory_low`](Self::memory_low) for a best-effort protection that does.
    pub fn memory_min(&mut self, bytes: u64) -> &mut Self {
        self.spec.limits.memory_min = Some(bytes);
        self
    }

    /// Protects `bytes` of the sandbox's memory from reclaim while other memory can still be
    /// reclaimed (v2 `memory.low`; spawn fails on v1): a best-effort
    /// [`memory_min`](Self::memory_min), bounded by the ancestors' protection in the same way.
    /// Each time the kernel had to reclaim it anyway,
    /// [`CgroupStats::memory_low_events`](crate::CgroupStats::memory_low_events) counts one.
    pub fn memory_low(&mut self, bytes: u64) -> &mut Self {
        self.spec.limits.memory_low = Some(bytes);
        self
    }

    /// Caps memory plus swap at `bytes` in total (needs `memory_max`; v2 `memory.swap.max` gets
    /// the difference, v1 `memory.memsw.limit_in_bytes` the total).
    pub fn memory_swap_max(&mut self, bytes: u64) -> &mut Self {
        self.spec.limits.memory_swap_max = Some(bytes);
        self
    }

    /// Caps CPU time at `cpus` CPUs' worth (0.5 = half of one CPU; at least 0.01), enforced
    /// per 100 ms period.
    pub fn cpu_max(&mut self, cpus: f64) -> &mut Self {
        self.spec.limits.cpu_max = Some(cpus);
        self
    }

    /// The period [`cpu_max`](Self::cpu_max) is enforced over: 1 ms to 1 s, default 100 ms
    /// (the quota is `cpus` × `period`). A longer period lets a bursty program run longer at
    /// once, a shorter one caps it more evenly.
    pub fn cpu_max_period(&mut self, period: std::time::Duration) -> &mut Self {
        self.spec.limits.cpu_max_period = Some(period);
        self
    }

    /// Lets a sandbox under [`cpu_max`](Self::cpu_max) save up the quota it leaves unused, up
    /// to `burst` of CPU time, and spend it in a later period on top of its quota (v2
    /// `cpu.max.burst`, v1 `cpu.cfs_burst_us`; Linux 5.14+, else spawn fails). At least 1 µs
    /// and at most the quota per 100 ms period; needs `cpu_max`.
    /// [`CgroupStats::cpu_bursts`](crate::CgroupStats::cpu_bursts) counts the periods that used it.
    pub fn cpu_max_burst(&mut self, burst: std::time::Duration) -> &mut Self {
        self.spec.limits.cpu_max_burst = Some(burst);
        self
    }

    /// Relative CPU weight, 1–10000 (default 100) against sibling cgroups.
    pub fn cpu_weight(&mut self, weight: u32) -> &mut Self {
        self.spec.limits.cpu_weight = Some(weight);
        self
    }

    /// The CPUs the sandbox may run on, in the kernel's list form ("0-1,3").
    pub fn cpuset_cpus(&mut self, cpus: impl Into<String>) -> &mut Self {
        self.spec.limits.cpuset_cpus = Some(cpus.into());
        self
    }

    /// The memory nodes the sandbox may allocate from ("0").
    pub fn cpuset_mems(&mut self, mems: impl Into<String>) -> &mut Self {
        self.spec.limits.cpuset_mems = Some(mems.into());
        self
    }

    /// Caps the number of processes and threads in the sandbox.
    pub fn pids_max(&mut self, max: u64) -> &mut Self {
        self.spec.limits.pids_max = Some(max);
        self
    }

    /// Relative IO weight, 1–10000 (v2 `io.weight`; v1 BFQ's `blkio.bfq.weight` or CFQ's
    /// `blkio.weight`, whichever the kernel has).
    /// Written and read back, but on v2 it acts only on devices whose IO cost controller is
    /// on (`io.cost.qos` `enable=1`, off by default): a request, not a guarantee.
    pub fn io_weight(&mut self, weight: u32) -> &mut Self {
        self.spec.limits.io_weight = Some(weight);
        self
    }

    /// Caps read/write bytes or operations per second on one block device.
    pub fn io_limit(&mut self, limit: IoLimit) -> &mut Self {
        self.spec.limits.io.push(limit);
        self
    }

    /// The cgroup (a path from the hierarchy root, like "/isobox") below which each sandbox
    /// gets its own cgroup. Default: "/isobox" for root; other users must set it, on cgroup v2,
    /// to a delegated cgroup they own with no processes of its own (without it, a spawn with
    /// limits fails with `CgroupError::NoDelegation`). Setting it gives each sandbox a cgroup
    /// even without limits, for the exit report's figures and the clean-up.
    pub fn cgroup_parent(&mut self, cgroup: impl AsRef<Path>) -> &mut Self {
        self.spec.cgroup_parent = Some(cgroup.as_ref().to_path_buf());
        self
    }

    /// Sets kernel setting `key` (as `sysctl` names it: `net.ipv4.ip_forward`) to `value` in
    /// the sandbox's own namespaces before the program starts, read back: only settings the
    /// kernel keeps per namespace, `net.*` with a network namespace of the sandbox's (new or
    /// joined) and System V IPC's `kernel.msg*`, `kernel.sem`, `kernel.shm*` and
    /// `fs.mqueue.*` with `Namespaces::IPC`; `build()` refuses any other
    /// ([`ConfigError::Sysctl`](crate::ConfigError::Sysctl)), which would change the host's.
    pub fn sysctl(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.spec.sysctls.push((key.into(), value.into()));
        self
    }

    /// The name of the sandbox's own cgroup below its parent, instead of isobox's
    /// `isobox-<pid>-<n>` (an OCI runtime's `cgroupsPath`): one sandbox of this name at a time,
    /// a spawn while it exists fails with [`CgroupError::Create`](crate::CgroupError::Create).
    /// Gives the sandbox a cgroup even without limits. One path component: no `/`, not `.`
    /// or `..`, not empty, at most 255 bytes. isobox's sweep of cgroups left by dead
    /// processes leaves such a cgroup alone.
    pub fn cgroup_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.spec.cgroup_name = Some(name.into());
        self
    }

    /// Validates the configuration and prepares everything the child will need.
    pub fn build(&self) -> Result<Sandbox, Error> {
        Ok(Sandbox::from_plan(build::build(&self.spec)?))
    }
}
