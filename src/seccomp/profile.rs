//! The default profile as data (**parent**): what it allows, what it names as denied, and the
//! few system calls whose arguments it checks. The module docs of `seccomp` say why.

use std::collections::BTreeMap;

use super::compile::{Action, ArgRule, ArgTest, Verdict};
use super::syscalls::{syscalls, Syscall};

/// Allowed with any arguments, on every target.
#[rustfmt::skip]
const ALLOWED: &[Syscall] = syscalls![
    // files and descriptors
    SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64, SYS_pwrite64, SYS_preadv, SYS_pwritev,
    SYS_preadv2, SYS_pwritev2, SYS_openat, SYS_openat2, SYS_close, SYS_close_range, SYS_lseek,
    SYS_dup, SYS_dup3, SYS_fcntl, SYS_flock, SYS_fsync, SYS_fdatasync, SYS_syncfs, SYS_sync,
    SYS_sync_file_range, SYS_truncate, SYS_ftruncate, SYS_fallocate, SYS_fadvise64, SYS_readahead,
    SYS_sendfile, SYS_splice, SYS_tee, SYS_vmsplice, SYS_copy_file_range, SYS_pipe2, SYS_cachestat,
    SYS_newfstatat, SYS_fstat, SYS_statx, SYS_statfs, SYS_fstatfs, SYS_getdents64, SYS_getcwd,
    SYS_chdir, SYS_fchdir, SYS_chroot, SYS_faccessat, SYS_faccessat2, SYS_mkdirat, SYS_mknodat,
    SYS_unlinkat, SYS_renameat, SYS_renameat2, SYS_linkat, SYS_symlinkat, SYS_readlinkat,
    SYS_fchmod, SYS_fchmodat, SYS_fchmodat2, SYS_fchown, SYS_fchownat, SYS_umask, SYS_utimensat,
    SYS_name_to_handle_at, SYS_statmount, SYS_listmount, SYS_file_getattr, SYS_file_setattr,
    // extended attributes
    SYS_getxattr, SYS_lgetxattr, SYS_fgetxattr, SYS_setxattr, SYS_lsetxattr, SYS_fsetxattr,
    SYS_listxattr, SYS_llistxattr, SYS_flistxattr, SYS_removexattr, SYS_lremovexattr,
    SYS_fremovexattr, SYS_setxattrat, SYS_getxattrat, SYS_listxattrat, SYS_removexattrat,
    // waiting for events
    SYS_ppoll, SYS_pselect6, SYS_epoll_create1, SYS_epoll_ctl, SYS_epoll_pwait, SYS_epoll_pwait2,
    SYS_eventfd2, SYS_signalfd4, SYS_timerfd_create, SYS_timerfd_settime, SYS_timerfd_gettime,
    SYS_inotify_init1, SYS_inotify_add_watch, SYS_inotify_rm_watch, SYS_fanotify_mark,
    SYS_io_setup, SYS_io_destroy, SYS_io_submit, SYS_io_cancel, SYS_io_getevents, SYS_io_pgetevents,
    // memory
    SYS_brk, SYS_mmap, SYS_munmap, SYS_mremap, SYS_mprotect, SYS_madvise, SYS_mincore, SYS_msync,
    SYS_mlock, SYS_mlock2, SYS_munlock, SYS_mlockall, SYS_munlockall, SYS_remap_file_pages,
    SYS_memfd_create, SYS_memfd_secret, SYS_membarrier, SYS_mseal, SYS_map_shadow_stack,
    SYS_pkey_alloc, SYS_pkey_free, SYS_pkey_mprotect,
    // processes and threads (clone and clone3 are restricted)
    SYS_execve, SYS_execveat, SYS_exit, SYS_exit_group, SYS_wait4, SYS_waitid, SYS_kill, SYS_tkill,
    SYS_tgkill, SYS_pidfd_open, SYS_pidfd_send_signal, SYS_process_mrelease, SYS_set_tid_address,
    SYS_set_robust_list, SYS_get_robust_list, SYS_rseq, SYS_futex, SYS_futex_waitv, SYS_futex_wake,
    SYS_futex_wait, SYS_futex_requeue, SYS_prctl, SYS_seccomp, SYS_getpid, SYS_getppid, SYS_gettid,
    SYS_getpgid, SYS_setpgid, SYS_getsid, SYS_setsid, SYS_getpriority, SYS_setpriority,
    SYS_ioprio_get, SYS_ioprio_set, SYS_getcpu, SYS_getrusage, SYS_getrlimit, SYS_setrlimit,
    SYS_prlimit64, SYS_times, SYS_sysinfo, SYS_uname, SYS_getrandom,
    SYS_sched_yield, SYS_sched_getaffinity, SYS_sched_setaffinity, SYS_sched_getattr,
    SYS_sched_setattr, SYS_sched_getparam, SYS_sched_setparam, SYS_sched_getscheduler,
    SYS_sched_setscheduler, SYS_sched_get_priority_max, SYS_sched_get_priority_min,
    SYS_sched_rr_get_interval,
    // credentials (the kernel checks the caller's capabilities)
    SYS_getuid, SYS_geteuid, SYS_getgid, SYS_getegid, SYS_getresuid, SYS_getresgid, SYS_getgroups,
    SYS_setuid, SYS_setgid, SYS_setreuid, SYS_setregid, SYS_setresuid, SYS_setresgid, SYS_setfsuid,
    SYS_setfsgid, SYS_setgroups, SYS_capget, SYS_capset,
    SYS_landlock_create_ruleset, SYS_landlock_add_rule, SYS_landlock_restrict_self,
    SYS_lsm_get_self_attr, SYS_lsm_list_modules,
    // signals
    SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_rt_sigpending, SYS_rt_sigsuspend,
    SYS_rt_sigtimedwait, SYS_rt_sigqueueinfo, SYS_rt_tgsigqueueinfo, SYS_sigaltstack,
    SYS_restart_syscall,
    // time (setting the clock is denied; adjtimex and clock_adjtime change it too, with
    // CAP_SYS_TIME over the host: a root caller without a user namespace that keeps it can
    // step the clock through them, as in Docker; the filter cannot see their modes)
    SYS_clock_gettime, SYS_clock_getres, SYS_clock_nanosleep, SYS_clock_adjtime, SYS_adjtimex,
    SYS_gettimeofday,
    SYS_nanosleep, SYS_getitimer, SYS_setitimer, SYS_timer_create, SYS_timer_settime,
    SYS_timer_gettime, SYS_timer_getoverrun, SYS_timer_delete,
    // sockets (socket is restricted)
    SYS_socketpair, SYS_bind, SYS_connect, SYS_listen, SYS_accept, SYS_accept4, SYS_getsockname,
    SYS_getpeername, SYS_getsockopt, SYS_setsockopt, SYS_sendto, SYS_recvfrom, SYS_sendmsg,
    SYS_recvmsg, SYS_sendmmsg, SYS_recvmmsg, SYS_shutdown,
    // System V and POSIX IPC
    SYS_shmget, SYS_shmat, SYS_shmdt, SYS_shmctl, SYS_semget, SYS_semop, SYS_semtimedop, SYS_semctl,
    SYS_msgget, SYS_msgsnd, SYS_msgrcv, SYS_msgctl, SYS_mq_open, SYS_mq_unlink, SYS_mq_timedsend,
    SYS_mq_timedreceive, SYS_mq_notify, SYS_mq_getsetattr,
];

/// Allowed with any arguments: x86_64's older calls, which aarch64 has only as `*at` forms.
#[cfg(target_arch = "x86_64")]
#[rustfmt::skip]
const ALLOWED_ARCH: &[Syscall] = syscalls![
    SYS_open, SYS_creat, SYS_stat, SYS_lstat, SYS_access, SYS_pipe, SYS_dup2, SYS_getdents,
    SYS_mkdir, SYS_rmdir, SYS_mknod, SYS_unlink, SYS_rename, SYS_link, SYS_symlink, SYS_readlink,
    SYS_chmod, SYS_chown, SYS_lchown, SYS_utime, SYS_utimes, SYS_futimesat, SYS_poll, SYS_select,
    SYS_epoll_create, SYS_epoll_wait, SYS_eventfd, SYS_signalfd, SYS_inotify_init, SYS_fork,
    SYS_vfork, SYS_pause, SYS_alarm, SYS_time, SYS_getpgrp, SYS_arch_prctl, SYS_set_thread_area,
    SYS_get_thread_area,
];
#[cfg(target_arch = "aarch64")]
const ALLOWED_ARCH: &[Syscall] = &[];

/// Named as denied (ERRNO(EPERM)); every other number the profile does not allow is too.
#[rustfmt::skip]
const DENIED: &[Syscall] = syscalls![
    // new namespaces and joining others' (clone's namespace flags are checked, clone3 is ENOSYS)
    SYS_unshare, SYS_setns,
    // mounts, the new mount API, quotas
    SYS_mount, SYS_umount2, SYS_pivot_root, SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick,
    SYS_move_mount, SYS_open_tree, SYS_open_tree_attr, SYS_mount_setattr, SYS_quotactl,
    SYS_quotactl_fd,
    // kernel keyrings
    SYS_add_key, SYS_request_key, SYS_keyctl,
    // kernel programs and performance monitoring
    SYS_bpf, SYS_perf_event_open,
    // kernel modules and kexec
    SYS_init_module, SYS_finit_module, SYS_delete_module, SYS_kexec_load, SYS_kexec_file_load,
    // userfaultfd (a tool for kernel race exploits), io_uring (a large surface, no seccomp inside)
    SYS_userfaultfd, SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register,
    // other processes' memory and descriptors
    SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev, SYS_process_madvise, SYS_kcmp,
    SYS_pidfd_getfd,
    // state of the whole host or the whole UTS namespace
    SYS_reboot, SYS_swapon, SYS_swapoff, SYS_acct, SYS_syslog, SYS_sethostname, SYS_setdomainname,
    SYS_settimeofday, SYS_clock_settime, SYS_vhangup, SYS_fanotify_init, SYS_open_by_handle_at,
    SYS_lookup_dcookie, SYS_nfsservctl, SYS_lsm_set_self_attr,
    // NUMA placement (Docker: CAP_SYS_NICE only)
    SYS_mbind, SYS_set_mempolicy, SYS_get_mempolicy, SYS_set_mempolicy_home_node, SYS_migrate_pages,
    SYS_move_pages,
];

/// Named as denied: x86_64's port IO, LDT and obsolete calls.
#[cfg(target_arch = "x86_64")]
const DENIED_ARCH: &[Syscall] =
    syscalls![SYS_iopl, SYS_ioperm, SYS_modify_ldt, SYS_uselib, SYS_ustat, SYS_sysfs, SYS__sysctl];
#[cfg(target_arch = "aarch64")]
const DENIED_ARCH: &[Syscall] = &[];

/// Allowed only for some arguments (clone, socket, ioctl, personality), or answered otherwise
/// (clone3).
pub(crate) const RESTRICTED: &[Syscall] = syscalls![SYS_clone, SYS_clone3, SYS_socket, SYS_ioctl, SYS_personality];

/// Every namespace flag clone(2) takes (CLONE_NEWTIME shares clone's exit-signal byte and can
/// only be passed to clone3 and unshare, both refused anyway). Docker's mask 0x7E020000.
pub(crate) const NAMESPACE_FLAGS: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET) as u32;

/// The personalities Docker allows: PER_LINUX, PER_LINUX32, UNAME26 with each, and the query
/// 0xffffffff. Others (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC…) weaken the program's own hardening.
pub(crate) const PERSONALITIES: &[u32] = &[0, 0x8, 0x2_0000, 0x2_0008, 0xffff_ffff];

const EPERM: Action = Action::Errno(libc::EPERM as u16);

/// clone: EPERM with any namespace flag in the low 32 bits of its flags, which is all the
/// kernel reads of them.
static CLONE: ArgRule =
    ArgRule { arg: 0, test: ArgTest::AnyBit(NAMESPACE_FLAGS), matched: EPERM, otherwise: Action::Allow };
/// socket: EPERM for AF_VSOCK (the kernel reads `int family`: the low 32 bits).
static SOCKET: ArgRule =
    ArgRule { arg: 0, test: ArgTest::OneOf(&[libc::AF_VSOCK as u32]), matched: EPERM, otherwise: Action::Allow };
/// ioctl: EPERM for TIOCSTI and TIOCLINUX (the kernel truncates `cmd` to unsigned int).
static IOCTL: ArgRule = ArgRule {
    arg: 1,
    test: ArgTest::OneOf(&[libc::TIOCSTI as u32, libc::TIOCLINUX as u32]),
    matched: EPERM,
    otherwise: Action::Allow,
};
/// personality: only [`PERSONALITIES`] (the kernel reads an unsigned int).
static PERSONALITY: ArgRule =
    ArgRule { arg: 0, test: ArgTest::OneOf(PERSONALITIES), matched: Action::Allow, otherwise: EPERM };

/// Every system call the profile allows with any arguments, by number.
pub(crate) fn allowed() -> Vec<Syscall> {
    sorted(ALLOWED.iter().chain(ALLOWED_ARCH))
}

/// Every system call the profile names as denied, by number.
pub(crate) fn denied() -> Vec<Syscall> {
    sorted(DENIED.iter().chain(DENIED_ARCH))
}

fn sorted<'a>(list: impl Iterator<Item = &'a Syscall>) -> Vec<Syscall> {
    let mut list: Vec<Syscall> = list.copied().collect();
    list.sort_by_key(|s| s.number());
    list
}

/// The profile's verdict for each number it lists; unlisted numbers below [`known_end`] are
/// EPERM, numbers at or above it ENOSYS.
pub(crate) fn table() -> BTreeMap<u32, Verdict> {
    let mut table = BTreeMap::new();
    for s in ALLOWED.iter().chain(ALLOWED_ARCH) {
        table.insert(s.number() as u32, Verdict::Is(Action::Allow));
    }
    for s in DENIED.iter().chain(DENIED_ARCH) {
        table.insert(s.number() as u32, Verdict::Is(EPERM));
    }
    table.insert(libc::SYS_clone as u32, Verdict::Check(&CLONE));
    table.insert(libc::SYS_clone3 as u32, Verdict::Is(Action::Errno(libc::ENOSYS as u16)));
    table.insert(libc::SYS_socket as u32, Verdict::Check(&SOCKET));
    table.insert(libc::SYS_ioctl as u32, Verdict::Check(&IOCTL));
    table.insert(libc::SYS_personality as u32, Verdict::Check(&PERSONALITY));
    table
}

/// One past the highest number the profile knows. System calls newer than the profile get
/// ENOSYS, so that a libc which tries them first falls back as on an older kernel (EPERM would
/// read as a real refusal; runc does the same).
pub(crate) fn known_end() -> u32 {
    let highest = ALLOWED.iter().chain(ALLOWED_ARCH).chain(DENIED).chain(DENIED_ARCH).chain(RESTRICTED);
    highest.map(|s| s.number() as u32).max().unwrap_or(0) + 1
}
