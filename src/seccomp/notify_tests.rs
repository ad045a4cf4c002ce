//! Notify rules through the test interpreter: the prologue allows exactly the child's own last
//! calls on this spawn's pipes, the rest answers as the rules say.

use nix::errno::Errno;

use super::*;
use crate::seccomp::bpf::{ret_errno, RET_ALLOW, RET_USER_NOTIF};
use crate::seccomp::interp::{run, Call};

const REPORT: u64 = 41;
const GO: u64 = 42;

fn spawn_program(spec: &Seccomp) -> Vec<libc::sock_filter> {
    let plan = compile(spec, true, false).expect("compiles");
    assert!(plan.notify);
    plan.for_spawn(REPORT as RawFd, GO as RawFd).expect("a program per spawn")
}

fn verdict(program: &[libc::sock_filter], nr: i64, args: &[u64]) -> u32 {
    run(program, &Call::native(nr, args))
}

#[test]
fn the_prologue_allows_the_childs_last_calls_and_nothing_else() {
    let eacces = ret_errno(Errno::EACCES as u16);
    let spec = Seccomp::none().deny(libc::SYS_read, Errno::EACCES).notify(libc::SYS_write).notify(libc::SYS_mkdir);
    let p = spawn_program(&spec);
    assert_eq!(verdict(&p, libc::SYS_write, &[REPORT]), RET_ALLOW);
    assert_eq!(verdict(&p, libc::SYS_write, &[REPORT | 1 << 32]), RET_ALLOW, "the kernel reads an fd's low 32 bits");
    assert_eq!(verdict(&p, libc::SYS_write, &[1]), RET_USER_NOTIF);
    assert_eq!(verdict(&p, libc::SYS_write, &[GO]), RET_USER_NOTIF);
    assert_eq!(verdict(&p, libc::SYS_read, &[GO]), RET_ALLOW);
    assert_eq!(verdict(&p, libc::SYS_read, &[REPORT]), eacces);
    assert_eq!(verdict(&p, libc::SYS_read, &[0]), eacces);
    assert_eq!(verdict(&p, libc::SYS_exit_group, &[]), RET_ALLOW);
    assert_eq!(verdict(&p, libc::SYS_mkdir, &[GO]), RET_USER_NOTIF);
    assert_eq!(verdict(&p, libc::SYS_getpid, &[REPORT]), RET_ALLOW);
    let foreign = Call { arch: 0x4000_0003, ..Call::native(libc::SYS_write, &[REPORT]) };
    assert_eq!(run(&p, &foreign), libc::SECCOMP_RET_KILL_PROCESS, "a foreign arch skips the prologue");
}

#[test]
fn notify_goes_over_the_default_profile() {
    let p = spawn_program(&Seccomp::default_profile().notify(libc::SYS_getppid).notify(libc::SYS_mount));
    assert_eq!(verdict(&p, libc::SYS_getppid, &[]), RET_USER_NOTIF);
    assert_eq!(verdict(&p, libc::SYS_mount, &[]), RET_USER_NOTIF);
    assert_eq!(verdict(&p, libc::SYS_unshare, &[]), ret_errno(Errno::EPERM as u16));
    assert_eq!(verdict(&p, libc::SYS_getpid, &[]), RET_ALLOW);
    assert_eq!(verdict(&p, libc::SYS_write, &[7]), RET_ALLOW);
}

#[test]
fn without_notify_rules_nothing_changes() {
    for spec in [Seccomp::default_profile(), Seccomp::none(), Seccomp::default_profile().allow(libc::SYS_ptrace)] {
        let plan = compile(&spec, true, false).expect("compiles");
        assert!(!plan.notify && plan.for_spawn(3, 4).is_none());
        assert!(plan.program.is_empty() || plan.program[0].k == crate::seccomp::bpf::ARCH);
    }
    let with = compile(&Seccomp::default_profile().notify(libc::SYS_mkdir), true, false).expect("compiles");
    let without =
        compile(&Seccomp::default_profile().deny(libc::SYS_mkdir, Errno::EACCES), true, false).expect("compiles");
    // A return of its own either way (USER_NOTIF, or an errno the profile does not use).
    assert_eq!(with.program.len(), without.program.len() + prologue::CONTROL_PROLOGUE_LEN);
}

#[test]
fn what_the_child_makes_before_the_handover_cannot_be_notified() {
    for (nr, name) in [(libc::SYS_execve, "execve"), (libc::SYS_exit_group, "exit_group")] {
        let err = compile(&Seccomp::default_profile().notify(nr), true, false).expect_err("refused");
        assert_eq!(err, SeccompError::CannotNotify { nr, name });
    }
    let err =
        compile(&Seccomp::from_bpf(vec![crate::seccomp::spec::BpfInstruction::new(6, 0, 0, 0)]).notify(1), true, false);
    assert!(matches!(err, Err(SeccompError::RulesOnBpf { .. })), "{err:?}");
}
