//! The system-call filter, on by default (**parent**, but for `apply`). A leaf: it uses nothing
//! of isobox but `sys`; its error is its own, and the crate's `error` module rolls it up.
//!
//! - spec: [`spec`] ([`Seccomp`](spec::Seccomp), [`BpfInstruction`](spec::BpfInstruction)),
//!   [`syscalls`] (names and numbers), [`error`].
//! - plan: [`plan`] checks the rules and asks [`compile`] (our own BPF compiler, over the
//!   instructions of [`bpf`]) for the program, once at `build()`; [`profile`] is the default
//!   profile as data; [`prologue`] what a filter with notify rules allows first.
//! - apply: [`apply`] (**child**) installs it with one raw `seccomp()` as the last step before
//!   exec.
//! - describe: [`describe`], a filter the kernel refused.
//! - user notification: [`handoff`] (the child announces its listener and waits until the
//!   parent holds it) and [`notify`] (**parent**: the public `Notifier`).
//!
//! # The default profile
//! An allowlist in the spirit of Docker's (`profiles/seccomp/default.json`), for x86_64 and
//! aarch64. A system call it does not allow fails with EPERM; one newer than the profile
//! (numbers above the newest it knows) fails with ENOSYS, so that a libc trying it falls
//! back as on an older kernel. A foreign architecture (i386 through `int 0x80`, say) kills
//! the process; on x86_64 the x32 ABI's numbers fail with EPERM. Denied by name
//! (`Seccomp::default_denied()` lists them), with the reason:
//!
//! - **new namespaces**: `unshare`, `setns`, and `clone` with any `CLONE_NEW*` flag (EPERM;
//!   other clones are allowed). `clone3` answers ENOSYS, since seccomp cannot read the flags
//!   inside its struct; glibc then falls back to `clone`. Namespaces are how unprivileged
//!   code reaches most of the kernel's privileged surface.
//! - **mounts**: `mount`, `umount2`, `pivot_root`, the new mount API (`fsopen`, `fsconfig`,
//!   `fsmount`, `fspick`, `move_mount`, `open_tree`, `open_tree_attr`, `mount_setattr`) and
//!   quotas (`quotactl`, `quotactl_fd`): the sandbox's mounts are made before exec.
//! - **keyrings**: `add_key`, `request_key`, `keyctl`: not namespaced.
//! - **kernel programs and monitoring**: `bpf`, `perf_event_open`.
//! - **kernel modules and kexec**: `init_module`, `finit_module`, `delete_module`,
//!   `kexec_load`, `kexec_file_load`.
//! - **exploit helpers and large surfaces**: `userfaultfd` (stalls the kernel on a page
//!   fault, a staple of race exploits), `io_uring_setup`/`_enter`/`_register` (its work is not
//!   filtered by seccomp; Docker dropped it too).
//! - **other processes**: `ptrace`, `process_vm_readv`, `process_vm_writev`,
//!   `process_madvise`, `kcmp`, `pidfd_getfd` (debuggers and tracers do not work inside).
//! - **the host's or the namespace's state**: `reboot`, `swapon`, `swapoff`, `acct`,
//!   `syslog`, `sethostname`, `setdomainname` (set by the builder), `settimeofday`,
//!   `clock_settime` (`adjtimex` and `clock_adjtime` stay allowed, for reading: with a kept
//!   `CAP_SYS_TIME` over the host they set the clock too), `vhangup`, `fanotify_init`, `open_by_handle_at`, `lookup_dcookie`,
//!   `nfsservctl`, `lsm_set_self_attr`; on x86_64 `iopl`, `ioperm`, `modify_ldt` and the
//!   obsolete `uselib`, `ustat`, `sysfs`, `_sysctl`.
//! - **NUMA placement**: `mbind`, `set_mempolicy`, `get_mempolicy`,
//!   `set_mempolicy_home_node`, `migrate_pages`, `move_pages` (Docker: CAP_SYS_NICE only).
//!
//! Checked by argument (`Seccomp::default_restricted()`; only their low 32 bits, which is all
//! the kernel reads of these): `socket` fails with EPERM for AF_VSOCK (a channel to the
//! hypervisor); `ioctl` fails with EPERM for TIOCSTI (typing into the terminal) and TIOCLINUX;
//! `personality` is allowed only for PER_LINUX, PER_LINUX32, either with UNAME26, and the query
//! 0xffffffff (not ADDR_NO_RANDOMIZE or READ_IMPLIES_EXEC). Argument checks make their
//! system call run the filter each time (the others are answered from the kernel's cache), so
//! they are kept to these five.
//!
//! # Loosening it
//! `Seccomp::default_profile().allow(libc::SYS_ptrace)` allows one system call with any
//! arguments (`allow(libc::SYS_clone)` allows every clone flag); `.deny(nr, errno)` answers
//! one with an errno of your choice. `Seccomp::none()` installs no filter at all;
//! `Seccomp::from_bpf` installs a program compiled elsewhere. A filter needs no_new_privs,
//! which is on by default.
//!
//! # User notification
//! `.notify(nr)` hands a system call to the caller: the program waits in it until a thread of
//! the caller's answers through the [`Notifier`](notify::Notifier) that
//! `Child::take_notifier` gives (an errno, a value, or letting the kernel run it). The child
//! installs the filter with a listener, tells the parent its descriptor number on the report
//! pipe and waits; the parent copies it with pidfd_getfd(2) and releases the child, which
//! execs. Until exec the filter's prologue allows the child's own last calls (`write` of its
//! report pipe, `read` of its go pipe, `exit_group`), so none of them can wait on a listener
//! nobody holds yet.
//!
//! # Cost
//! The default program is 92 instructions on x86_64 (73 ranges), at most 13 of them on any one
//! system call's path. Installing it takes about 38 µs on the reference machine (BENCHMARKS.md),
//! of which about 17 µs is what the kernel takes for any filter, even one instruction long;
//! the rest grows with the program's length (the kernel JIT-compiles it) more than with its
//! paths (the kernel runs it once per number to fill its cache). A full sandbox spawns about
//! 35 µs (5%) slower with it than with `Seccomp::none()`.

pub(crate) mod apply;
mod bpf;
mod compile;
pub(crate) mod describe;
pub(crate) mod error;
pub(crate) mod handoff;
pub(crate) mod interp;
pub(crate) mod notify;
pub(crate) mod plan;
mod profile;
mod prologue;
pub(crate) mod spec;
pub(crate) mod syscalls;
