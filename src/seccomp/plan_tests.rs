//! The compiled programs run through the test interpreter: every verdict, without root.

use std::collections::BTreeSet;

use nix::errno::Errno;

use super::*;
use crate::seccomp::bpf::{ret_errno, RET_ALLOW, RET_KILL_PROCESS};
use crate::seccomp::interp::{run, run_counting, Call};
use crate::seccomp::spec::BpfInstruction;

const EPERM: u32 = ret_errno(libc::EPERM as u16);
const ENOSYS: u32 = ret_errno(libc::ENOSYS as u16);

fn program(spec: &Seccomp) -> Vec<libc::sock_filter> {
    compile(spec, true, false).expect("compiles").program
}

fn verdict(program: &[libc::sock_filter], nr: i64, args: &[u64]) -> u32 {
    run(program, &Call::native(nr, args))
}

/// An ioctl request as the raw argument (`Ioctl` is u64 on glibc, i32 on musl).
#[allow(clippy::unnecessary_cast)]
fn request(cmd: libc::Ioctl) -> u64 {
    cmd as u64
}

fn numbers(list: Vec<crate::seccomp::syscalls::Syscall>) -> BTreeSet<i64> {
    list.iter().map(|s| s.number()).collect()
}

#[test]
fn the_default_profile_answers_every_number_up_to_1000_as_its_tables_say() {
    let p = program(&Seccomp::default_profile());
    let allowed = numbers(Seccomp::default_allowed());
    let denied = numbers(Seccomp::default_denied());
    let restricted = numbers(Seccomp::default_restricted());
    assert!(allowed.is_disjoint(&denied) && allowed.is_disjoint(&restricted) && denied.is_disjoint(&restricted));
    let end = i64::from(profile::known_end());
    for nr in 0..=1000 {
        let got = verdict(&p, nr, &[]);
        let want = match nr {
            _ if allowed.contains(&nr) => RET_ALLOW,
            _ if nr == libc::SYS_clone3 => ENOSYS,
            // With all arguments 0: clone without flags, socket(0), ioctl(0, 0), personality(0).
            _ if restricted.contains(&nr) => RET_ALLOW,
            _ if nr >= end => ENOSYS,
            _ => EPERM,
        };
        assert_eq!(got, want, "syscall {nr}");
    }
    for name in ["read", "write", "execve", "exit_group", "openat", "mmap", "futex", "wait4"] {
        assert!(Seccomp::default_allowed().iter().any(|s| s.name() == name), "{name} is allowed");
    }
    for name in ["mount", "unshare", "setns", "keyctl", "add_key", "bpf", "ptrace", "userfaultfd", "kexec_load"] {
        assert!(Seccomp::default_denied().iter().any(|s| s.name() == name), "{name} is denied");
    }
}

#[test]
fn the_default_profile_knows_system_calls_up_to_linux_6_17() {
    assert_eq!(profile::known_end(), 470, "file_setattr (469) is the newest number the profile knows");
    assert!(Seccomp::default_allowed().windows(2).all(|w| w[0].number() < w[1].number()));
}

#[test]
fn x32_numbers_and_negative_numbers_are_denied() {
    let p = program(&Seccomp::default_profile());
    for nr in [0x4000_0000, 0x4000_0000 + libc::SYS_read, 0x4000_0000 + libc::SYS_mount, 0x7fff_ffff, -1, -100] {
        let want = if cfg!(target_arch = "x86_64") { EPERM } else { ENOSYS };
        assert_eq!(verdict(&p, nr, &[]), want, "syscall {nr:#x}");
    }
    let p = program(&Seccomp::none().deny(libc::SYS_mount, Errno::EPERM));
    let x32_mount = verdict(&p, 0x4000_0000 + libc::SYS_mount, &[]);
    assert_eq!(x32_mount, if cfg!(target_arch = "x86_64") { EPERM } else { RET_ALLOW }, "a deny-list covers x32");
}

#[test]
fn a_foreign_architecture_is_killed() {
    let p = program(&Seccomp::default_profile());
    for arch in [0x4000_0003u32 /* i386 */, 0x4000_0028 /* arm */, 0xC000_00F3 /* riscv64 */, 0] {
        for nr in [0, libc::SYS_read, libc::SYS_mount, libc::SYS_exit_group] {
            let call = Call { nr: nr as i32, arch, args: [0; 6] };
            assert_eq!(run(&p, &call), RET_KILL_PROCESS, "arch {arch:#x} syscall {nr}");
        }
    }
}

#[test]
fn clone_is_refused_with_a_namespace_flag_in_its_low_32_bits_only() {
    let p = program(&Seccomp::default_profile());
    let sigchld = libc::SIGCHLD as u64;
    let threads =
        (libc::CLONE_VM | libc::CLONE_FS | libc::CLONE_FILES | libc::CLONE_SIGHAND | libc::CLONE_THREAD) as u64;
    for flags in [sigchld, threads, (libc::CLONE_VM | libc::CLONE_VFORK) as u64 | sigchld, sigchld | 1 << 32] {
        assert_eq!(verdict(&p, libc::SYS_clone, &[flags]), RET_ALLOW, "flags {flags:#x}");
    }
    let ns = [
        libc::CLONE_NEWNS,
        libc::CLONE_NEWCGROUP,
        libc::CLONE_NEWUTS,
        libc::CLONE_NEWIPC,
        libc::CLONE_NEWUSER,
        libc::CLONE_NEWPID,
        libc::CLONE_NEWNET,
    ];
    for flag in ns {
        let flags = flag as u64 | sigchld;
        assert_eq!(verdict(&p, libc::SYS_clone, &[flags]), EPERM, "flags {flags:#x}");
        assert_eq!(verdict(&p, libc::SYS_clone, &[flags | 0xffff_0000_0000_0000]), EPERM);
    }
    assert_eq!(profile::NAMESPACE_FLAGS, 0x7E02_0000, "Docker's mask");
    assert_eq!(verdict(&p, libc::SYS_clone3, &[0, 88]), ENOSYS);
    assert_eq!(verdict(&p, libc::SYS_unshare, &[libc::CLONE_FILES as u64]), EPERM);
}

#[test]
fn socket_ioctl_and_personality_are_checked_on_their_low_32_bits() {
    let p = program(&Seccomp::default_profile());
    let vsock = libc::AF_VSOCK as u64;
    assert_eq!(verdict(&p, libc::SYS_socket, &[vsock, libc::SOCK_STREAM as u64]), EPERM);
    assert_eq!(verdict(&p, libc::SYS_socket, &[vsock | 1 << 32]), EPERM);
    for family in [libc::AF_UNIX, libc::AF_INET, libc::AF_INET6, libc::AF_NETLINK] {
        assert_eq!(verdict(&p, libc::SYS_socket, &[family as u64]), RET_ALLOW, "family {family}");
    }
    for cmd in [request(libc::TIOCSTI), request(libc::TIOCLINUX)] {
        assert_eq!(verdict(&p, libc::SYS_ioctl, &[0, cmd]), EPERM, "cmd {cmd:#x}");
        assert_eq!(verdict(&p, libc::SYS_ioctl, &[0, cmd | 0xdead_0000_0000]), EPERM, "high bits ignored");
    }
    for cmd in [request(libc::TCGETS), request(libc::TIOCGWINSZ), request(libc::FIONREAD)] {
        assert_eq!(verdict(&p, libc::SYS_ioctl, &[request(libc::TIOCSTI), cmd]), RET_ALLOW, "cmd {cmd:#x}");
    }
    for persona in profile::PERSONALITIES {
        assert_eq!(verdict(&p, libc::SYS_personality, &[u64::from(*persona)]), RET_ALLOW, "{persona:#x}");
    }
    for persona in [0x0040000u64 /* ADDR_NO_RANDOMIZE */, 0x0400000 /* READ_IMPLIES_EXEC */, 1] {
        assert_eq!(verdict(&p, libc::SYS_personality, &[persona]), EPERM, "{persona:#x}");
    }
}

#[test]
fn user_rules_override_the_profile_and_the_last_rule_for_a_number_wins() {
    let spec = Seccomp::default_profile()
        .allow(libc::SYS_mount)
        .deny(libc::SYS_getpid, Errno::EACCES)
        .allow(libc::SYS_clone)
        .deny(libc::SYS_ioctl, Errno::ENOTTY)
        .deny(libc::SYS_ptrace, Errno::EIO)
        .allow(libc::SYS_ptrace)
        .allow(600);
    let p = program(&spec);
    assert_eq!(verdict(&p, libc::SYS_mount, &[]), RET_ALLOW);
    assert_eq!(verdict(&p, libc::SYS_getpid, &[]), ret_errno(libc::EACCES as u16));
    assert_eq!(verdict(&p, libc::SYS_clone, &[libc::CLONE_NEWUSER as u64]), RET_ALLOW, "allow(clone): every flag");
    assert_eq!(verdict(&p, libc::SYS_ioctl, &[0, request(libc::TCGETS)]), ret_errno(libc::ENOTTY as u16));
    assert_eq!(verdict(&p, libc::SYS_ptrace, &[]), RET_ALLOW);
    assert_eq!(verdict(&p, 600, &[]), RET_ALLOW, "a number past the profile's");
    assert_eq!((verdict(&p, 599, &[]), verdict(&p, 601, &[])), (ENOSYS, ENOSYS));
    assert_eq!(verdict(&p, libc::SYS_umount2, &[]), EPERM, "the rest of the profile stands");
}

#[test]
fn none_is_no_program_and_with_deny_rules_a_deny_list() {
    assert!(program(&Seccomp::none()).is_empty());
    assert!(program(&Seccomp::none().allow(libc::SYS_mount)).is_empty(), "nothing to deny");
    let p = program(&Seccomp::none().deny(libc::SYS_mount, Errno::EPERM).deny(libc::SYS_getcpu, Errno::EACCES));
    for nr in 0..=1000 {
        let want = match nr {
            _ if nr == libc::SYS_mount => EPERM,
            _ if nr == libc::SYS_getcpu => ret_errno(libc::EACCES as u16),
            _ => RET_ALLOW,
        };
        assert_eq!(verdict(&p, nr, &[]), want, "syscall {nr}");
    }
}

#[test]
fn many_rules_need_long_jumps_and_still_answer_every_number() {
    // Every third number denied: ~1300 ranges, so left halves are far longer than 255.
    let denied = |nr: i64| nr < 2000 && nr % 3 == 0 && !NEEDED_TO_EXEC.iter().any(|(needed, _)| *needed == nr);
    let spec = (0..2000).filter(|nr| denied(*nr)).fold(Seccomp::none(), |s, nr| s.deny(nr, Errno::EACCES));
    let p = program(&spec);
    assert!(p.iter().any(|i| i.code == bpf::JA), "long jumps are used");
    let mut longest = 0;
    for nr in 0..=2100 {
        let (got, steps) = run_counting(&p, &Call::native(nr, &[]));
        let want = if denied(nr) { ret_errno(libc::EACCES as u16) } else { RET_ALLOW };
        assert_eq!(got, want, "syscall {nr}");
        longest = longest.max(steps);
    }
    assert!(longest <= 4 + 2 * 11 + 1, "a balanced tree: {longest} instructions on the longest path");
}

#[test]
fn rule_sets_of_every_size_answer_every_number() {
    // From a compact tree with shared returns to in-line leaves with long jumps.
    for step in [97, 31, 11, 7, 5, 2] {
        let denied = |nr: i64| nr < 1000 && nr % step == 1 && !NEEDED_TO_EXEC.iter().any(|(needed, _)| *needed == nr);
        let spec = (0..1000).filter(|nr| denied(*nr)).fold(Seccomp::default_profile(), |s, nr| s.deny(nr, Errno::EIO));
        let reference = program(&Seccomp::default_profile());
        let p = program(&spec);
        for nr in 0..=1100 {
            let want = if denied(nr) { ret_errno(libc::EIO as u16) } else { verdict(&reference, nr, &[]) };
            assert_eq!(verdict(&p, nr, &[]), want, "every {step}th denied: syscall {nr}");
        }
        let clone_ns = verdict(&p, libc::SYS_clone, &[libc::CLONE_NEWNS as u64]);
        assert_eq!(clone_ns, if denied(libc::SYS_clone) { ret_errno(libc::EIO as u16) } else { EPERM });
    }
}

#[test]
fn a_program_over_4096_instructions_is_a_typed_error() {
    let spec = (300..6300).step_by(2).fold(Seccomp::none(), |s, nr| s.deny(nr, Errno::EACCES));
    match compile(&spec, true, false) {
        Err(SeccompError::ProgramTooLong { len, max: 4096 }) => assert!(len > 4096, "{len}"),
        other => panic!("expected ProgramTooLong, got {other:?}"),
    }
}

#[test]
fn the_default_program_is_short_and_its_paths_shorter() {
    let p = program(&Seccomp::default_profile());
    let longest = (0..=1000).map(|nr| run_counting(&p, &Call::native(nr, &[])).1).max().unwrap();
    let ranges = compile::ranges(&default_profile(Default::default())).len();
    println!("default profile: {} instructions, {ranges} ranges, longest path {longest}", p.len());
    assert!(p.len() <= 100, "{} instructions", p.len());
    assert!(longest <= 14, "longest path {longest}");
}

#[test]
fn a_users_program_runs_behind_the_exit_group_prologue() {
    // Every system call: ERRNO(EACCES) (a program that would leave a failed exec unable to end).
    let user = vec![BpfInstruction::new(bpf::RET_K, 0, 0, ret_errno(libc::EACCES as u16))];
    let p = program(&Seccomp::from_bpf(user));
    assert_eq!(p.len(), 1 + compile::EXIT_PROLOGUE_LEN);
    assert_eq!(verdict(&p, libc::SYS_exit_group, &[127]), RET_ALLOW);
    assert_eq!(verdict(&p, libc::SYS_execve, &[]), ret_errno(libc::EACCES as u16));
    let foreign = Call { nr: libc::SYS_exit_group as i32, arch: 0x4000_0003, args: [0; 6] };
    assert_eq!(run(&p, &foreign), ret_errno(libc::EACCES as u16), "another arch's number goes to the program");
    // The program sees A = 0, as it would first: `RET A`.
    let ret_a = vec![BpfInstruction::new((libc::BPF_RET | libc::BPF_A) as u16, 0, 0, 0)];
    let p = program(&Seccomp::from_bpf(ret_a));
    assert_eq!(p[compile::EXIT_PROLOGUE_LEN - 1].code, bpf::LD_IMM);
    assert_eq!(p[compile::EXIT_PROLOGUE_LEN - 1].k, 0);
}

#[test]
fn refusals_are_typed() {
    let err = |spec: Seccomp| compile(&spec, true, false).unwrap_err();
    assert_eq!(err(Seccomp::from_bpf(Vec::new())), SeccompError::EmptyProgram);
    let ret = BpfInstruction::new(bpf::RET_K, 0, 0, RET_ALLOW);
    assert_eq!(err(Seccomp::from_bpf(vec![ret; 4091])), SeccompError::ProgramTooLong { len: 4091, max: 4090 });
    assert!(compile(&Seccomp::from_bpf(vec![ret; 4090]), true, false).is_ok());
    let with_rule = Seccomp::from_bpf(vec![ret]).allow(libc::SYS_mount);
    assert_eq!(err(with_rule), SeccompError::RulesOnBpf { rules: 1 });
    for nr in [-1, 0x4000_0000, i64::MAX] {
        assert_eq!(err(Seccomp::default_profile().allow(nr)), SeccompError::BadNumber { nr });
    }
    let nr = libc::SYS_getpid;
    assert_eq!(
        err(Seccomp::none().deny(nr, Errno::UnknownErrno)),
        SeccompError::BadErrno { nr, errno: Errno::UnknownErrno }
    );
    for (nr, name) in [(libc::SYS_execve, "execve"), (libc::SYS_write, "write"), (libc::SYS_exit_group, "exit_group")] {
        assert_eq!(err(Seccomp::default_profile().deny(nr, Errno::EPERM)), SeccompError::NeededToExec { nr, name });
    }
    assert_eq!(compile(&Seccomp::default_profile(), false, false).unwrap_err(), SeccompError::NeedsNoNewPrivs);
    assert!(compile(&Seccomp::none(), false, false).expect("no filter, no need").program.is_empty());
    // Without an init, a filter without no_new_privs goes in early; notify rules still need it.
    let early = compile(&Seccomp::default_profile(), false, true).expect("installed early");
    assert!(early.early && !early.program.is_empty());
    assert!(!compile(&Seccomp::default_profile(), true, true).unwrap().early, "no_new_privs: installed last");
    let notify = Seccomp::default_profile().notify(libc::SYS_mkdir);
    assert_eq!(compile(&notify, false, true).unwrap_err(), SeccompError::NeedsNoNewPrivs);
    let text = SeccompError::NeedsNoNewPrivs.to_string();
    assert!(text.contains("no_new_privs(true)") && text.contains("Seccomp::none()"), "{text}");
}
