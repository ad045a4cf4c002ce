//! The system-call filter, tried from inside: what the default profile refuses (and that the
//! same call gets through with `Seccomp::none()`), user rules, a program of the user's, and the
//! refusals of `build()`.
mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::{require_userns, sh};
use isobox::{
    BpfInstruction, Command, ConfigError, Error, Namespaces, Sandbox, Seccomp, SeccompError, SetupError, Step,
};
use nix::errno::Errno;

fn namespaces() -> Namespaces {
    Namespaces::USER | Namespaces::PID | Namespaces::MOUNT | Namespaces::UTS | Namespaces::IPC | Namespaces::NET
}

/// Every capability kept (in the sandbox's own user namespace), so that the filter is what
/// refuses a call, not a missing capability.
fn sandbox(filter: Seccomp) -> Sandbox {
    let mut b = Sandbox::builder();
    b.namespaces(namespaces()).seccomp(filter).capabilities(isobox::Capabilities::all());
    b.build().expect("valid sandbox")
}

/// Python that defines `call(name, nr, *args)`: makes the raw system call and prints
/// `name result` (`name EPERM` on failure).
const PRELUDE: &str = r#"
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def call(name, nr, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    if r == 0 and name.startswith("clone"):
        os._exit(0)
    e = ctypes.get_errno()
    print(name, errno.errorcode.get(e, e) if r == -1 else ("ok" if r >= 0 else r))
"#;

/// Runs `python3 -c code`, asserts success, and returns its stdout.
fn python_stdout(sandbox: &Sandbox, code: &str) -> String {
    let mut cmd = Command::new("python3");
    cmd.args(["-c", code]);
    let out = sandbox.output(&cmd).expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.report.success(), "{}\nstdout: {stdout}\nstderr: {}", out.report, String::from_utf8_lossy(&out.stderr));
    stdout
}

/// Runs `python3 -c PRELUDE+script` and returns each printed `name result` pair.
fn python(sandbox: &Sandbox, script: &str) -> Vec<(String, String)> {
    let stdout = python_stdout(sandbox, &format!("{PRELUDE}{script}"));
    stdout.lines().filter_map(|l| l.split_once(' ')).map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

/// The denied calls, each with what it must not give under `Seccomp::none()` (the kernel's
/// own answer there shows the filter is what refused it), or `None` where the kernel may
/// refuse it too.
fn denied_calls() -> Vec<(&'static str, String, Option<&'static str>)> {
    let s = |nr: i64, args: &str| format!("{nr}{args}");
    let mut calls = vec![
        (
            "clone_user",
            s(libc::SYS_clone, &format!(", {}, 0, 0, 0, 0", libc::CLONE_NEWUSER | libc::SIGCHLD)),
            Some("EPERM"),
        ),
        ("setns", s(libc::SYS_setns, ", -1, 0"), Some("EPERM")),
        ("mount", s(libc::SYS_mount, ", 0, 0, 0, 0, 0"), Some("EPERM")),
        ("fsopen", s(libc::SYS_fsopen, ", 0, 0"), Some("EPERM")),
        ("keyctl", s(libc::SYS_keyctl, ", 0, -3, 0"), Some("EPERM")),
        ("add_key", s(libc::SYS_add_key, ", 0, 0, 0, 0, 0"), Some("EPERM")),
        ("bpf", s(libc::SYS_bpf, ", 0, 0, 0"), None),
        ("ptrace", s(libc::SYS_ptrace, ", 2, 999999, 0, 0"), Some("EPERM")),
        ("userfaultfd", s(libc::SYS_userfaultfd, ", 0"), None),
        ("vsock", s(libc::SYS_socket, &format!(", {}, {}, 0", libc::AF_VSOCK, libc::SOCK_STREAM)), Some("EPERM")),
        ("tiocsti", s(libc::SYS_ioctl, &format!(", 0, {}, 0", libc::TIOCSTI)), Some("EPERM")),
        ("personality", s(libc::SYS_personality, ", 0x0040000"), Some("EPERM")),
    ];
    if cfg!(target_arch = "x86_64") {
        calls.push(("x32_getpid", s(0x4000_0000 + libc::SYS_getpid, ""), Some("EPERM")));
    }
    // Last: without a filter, they move the process into new namespaces (the new user
    // namespace maps nobody, so a clone of another one would fail on its own after it).
    calls.push(("unshare_mount", s(libc::SYS_unshare, &format!(", {}", libc::CLONE_NEWNS)), None));
    calls.push(("unshare_user", s(libc::SYS_unshare, &format!(", {}", libc::CLONE_NEWUSER)), Some("EPERM")));
    calls
}

fn script(calls: &[(&str, String, Option<&str>)]) -> String {
    calls.iter().map(|(name, args, _)| format!("call('{name}', {args})\n")).collect()
}

#[test]
fn rootless_the_default_profile_refuses_namespaces_mounts_keyrings_bpf_tracing_and_vsock() {
    if !require_userns() {
        return;
    }
    let calls = denied_calls();
    let clone3 = format!("call('clone3', {}, 0, 0)\n", libc::SYS_clone3);
    let filtered = python(&sandbox(Seccomp::default_profile()), &(clone3.clone() + &script(&calls)));
    let unfiltered = python(&sandbox(Seccomp::none()), &(clone3 + &script(&calls)));
    println!("filtered: {filtered:?}\nunfiltered: {unfiltered:?}");
    for (name, _, unfiltered_is_not) in &calls {
        let got = filtered.iter().find(|(n, _)| n == name).map(|(_, r)| r.as_str());
        assert_eq!(got, Some("EPERM"), "{name} under the default profile: {filtered:?}");
        if let Some(not) = unfiltered_is_not {
            let without = unfiltered.iter().find(|(n, _)| n == name).map(|(_, r)| r.as_str());
            assert!(without.is_some() && without != Some(not), "{name} without a filter: {without:?}");
        }
    }
    assert!(filtered.contains(&("clone3".into(), "ENOSYS".into())), "{filtered:?}");
    assert!(unfiltered.contains(&("clone3".into(), "EINVAL".into())), "{unfiltered:?}");
}

#[test]
fn rootless_ordinary_programs_fork_and_threads_work_under_the_default_profile() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(Seccomp::default_profile());
    // glibc tries clone3 first for fork, posix_spawn and threads; ENOSYS makes it use clone.
    assert_eq!(sh(&sb, "sleep 0 & wait; ls / >/dev/null && echo ok"), "ok\n");
    let code = "import os, subprocess, threading\n\
        t = threading.Thread(target=print, args=('thread',)); t.start(); t.join()\n\
        print(subprocess.run(['echo', 'child'], capture_output=True, text=True).stdout.strip())\n\
        pid = os.fork()\n\
        if pid == 0: os._exit(7)\n\
        print('fork', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n";
    assert_eq!(python_stdout(&sb, code), "thread\nchild\nfork 7\n");
}

#[test]
fn rootless_a_foreign_architectures_system_call_kills_the_program() {
    if !require_userns() || !cfg!(target_arch = "x86_64") {
        return;
    }
    // mov eax, 20 (i386 getpid); int 0x80; ret
    let code = "import mmap\n\
        m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n\
        m.write(b'\\xb8\\x14\\x00\\x00\\x00\\xcd\\x80\\xc3')\n\
        f = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(m)))\n\
        print('i386_getpid', f())\n";
    let unfiltered = python(&sandbox(Seccomp::none()), code);
    assert_eq!(unfiltered, [("i386_getpid".to_string(), "2".to_string())], "pid 2, beside the init");
    let mut cmd = Command::new("python3");
    cmd.args(["-c", &format!("{PRELUDE}{code}")]);
    let report = sandbox(Seccomp::default_profile()).output(&cmd).unwrap().report;
    assert!(report.killed_by_seccomp(), "{report}");
    assert!(report.to_string().starts_with("killed by SIGSYS (seccomp filter)"), "{report}");
}

#[test]
fn rootless_user_rules_answer_as_asked_and_override_the_profile() {
    if !require_userns() {
        return;
    }
    let filter = Seccomp::default_profile()
        .deny(libc::SYS_sysinfo, Errno::EACCES)
        .allow(libc::SYS_personality)
        .allow(libc::SYS_unshare);
    let script = format!(
        "call('sysinfo', {}, 0)\ncall('personality', {}, 0x0040000)\ncall('unshare_user', {}, {})\ncall('mount', {}, 0, 0, 0, 0, 0)\n",
        libc::SYS_sysinfo,
        libc::SYS_personality,
        libc::SYS_unshare,
        libc::CLONE_NEWUSER,
        libc::SYS_mount,
    );
    let got = python(&sandbox(filter), &script);
    let want = [("sysinfo", "EACCES"), ("personality", "ok"), ("unshare_user", "ok"), ("mount", "EPERM")];
    let want: Vec<(String, String)> = want.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(got, want);
}

#[test]
fn rootless_proc_status_shows_the_filter_or_none() {
    if !require_userns() {
        return;
    }
    let status = "grep -E '^(Seccomp|Seccomp_filters|NoNewPrivs):' /proc/self/status | tr -d ' \\t'";
    assert_eq!(sh(&sandbox(Seccomp::default_profile()), status), "NoNewPrivs:1\nSeccomp:2\nSeccomp_filters:1\n");
    assert_eq!(sh(&sandbox(Seccomp::none()), status), "NoNewPrivs:1\nSeccomp:0\nSeccomp_filters:0\n");
}

/// A program of the user's: KILL_PROCESS for `killed`, ERRNO(`errno`) for `denied`, else allow.
fn user_program(killed: Option<i64>, denied: Option<(i64, Errno)>) -> Vec<BpfInstruction> {
    const AUDIT_ARCH: u32 = if cfg!(target_arch = "x86_64") { 0xC000_003E } else { 0xC000_00B7 };
    let (ld, jeq, ret) = (0x20, 0x15, 0x06);
    let mut p = vec![BpfInstruction::new(ld, 0, 0, 4), BpfInstruction::new(jeq, 1, 0, AUDIT_ARCH)];
    p.push(BpfInstruction::new(ret, 0, 0, libc::SECCOMP_RET_KILL_PROCESS));
    p.push(BpfInstruction::new(ld, 0, 0, 0));
    if let Some(nr) = killed {
        p.push(BpfInstruction::new(jeq, 0, 1, nr as u32));
        p.push(BpfInstruction::new(ret, 0, 0, libc::SECCOMP_RET_KILL_PROCESS));
    }
    if let Some((nr, errno)) = denied {
        p.push(BpfInstruction::new(jeq, 0, 1, nr as u32));
        p.push(BpfInstruction::new(ret, 0, 0, libc::SECCOMP_RET_ERRNO | errno as u32));
    }
    p.push(BpfInstruction::new(ret, 0, 0, libc::SECCOMP_RET_ALLOW));
    p
}

#[test]
fn rootless_a_program_killed_by_a_users_filter_is_reported_as_such() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(Seccomp::from_bpf(user_program(Some(libc::SYS_uname), None)));
    let report = sb.status(&Command::new("uname")).unwrap();
    assert!(report.killed_by_seccomp(), "{report}");
    assert!(report.to_string().contains("SIGSYS (seccomp filter)"), "{report}");
    assert!(sb.status(&Command::new("true")).unwrap().success(), "everything else is allowed");
}

#[test]
fn rootless_a_users_filter_that_denies_exec_fails_the_spawn_and_one_that_denies_everything_ends() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(Seccomp::from_bpf(user_program(None, Some((libc::SYS_execve, Errno::EACCES)))));
    match sb.status(&Command::new("true")) {
        Err(Error::Setup(e)) => assert_eq!((e.step, e.errno), (Step::Exec, Errno::EACCES), "{e}"),
        other => panic!("expected a failed exec, got {other:?}"),
    }
    // ERRNO for every call, exit_group and the failure report's write included: isobox's
    // prologue still lets the child exit (127), so the spawn cannot hang.
    let all_denied = vec![BpfInstruction::new(0x06, 0, 0, libc::SECCOMP_RET_ERRNO | libc::EACCES as u32)];
    let sb = sandbox(Seccomp::from_bpf(all_denied));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(sb.status(&Command::new("/bin/true")).map(|r| r.code())));
    let code = rx.recv_timeout(Duration::from_secs(30)).expect("the spawn ends");
    assert_eq!(code.unwrap(), Some(127));
}

#[test]
fn rootless_a_filter_the_kernel_refuses_fails_the_seccomp_step_with_a_hint() {
    if !require_userns() {
        return;
    }
    // Ends in a jump, not a return: the kernel's checker refuses it (EINVAL).
    let sb = sandbox(Seccomp::from_bpf(vec![BpfInstruction::new(0x05, 0, 0, 0)]));
    match sb.status(&Command::new("true")) {
        Err(Error::Setup(e)) => {
            let SetupError { step, errno, hint, .. } = *e;
            assert_eq!((step, errno), (Step::Seccomp, Errno::EINVAL));
            assert!(hint.is_some_and(|h| h.contains("from_bpf")), "{hint:?}");
        }
        other => panic!("expected the seccomp step to fail, got {other:?}"),
    }
}

#[test]
fn rootless_build_refuses_a_filter_without_no_new_privs_and_bad_programs() {
    let refusal = |b: &mut isobox::SandboxBuilder| match b.build() {
        Err(Error::Config(ConfigError::Seccomp(e))) => e,
        other => panic!("expected a seccomp refusal, got {other:?}"),
    };
    let e = refusal(Sandbox::builder().no_new_privs(false));
    assert_eq!(e, SeccompError::NeedsNoNewPrivs);
    assert!(e.to_string().contains("Seccomp::none()"), "{e}");
    assert!(Sandbox::builder().no_new_privs(false).seccomp(Seccomp::none()).build().is_ok());
    assert_eq!(refusal(Sandbox::builder().seccomp(Seccomp::from_bpf(Vec::new()))), SeccompError::EmptyProgram);
    let long = vec![BpfInstruction::new(0x06, 0, 0, libc::SECCOMP_RET_ALLOW); 4091];
    let e = refusal(Sandbox::builder().seccomp(Seccomp::from_bpf(long)));
    assert_eq!(e, SeccompError::ProgramTooLong { len: 4091, max: 4090 });
    let e = refusal(Sandbox::builder().seccomp(Seccomp::default_profile().deny(libc::SYS_execve, Errno::EPERM)));
    assert!(matches!(e, SeccompError::NeededToExec { name: "execve", .. }), "{e}");
}

#[test]
fn rootless_without_no_new_privs_a_kept_cap_sys_admin_still_installs_the_filter() {
    if !require_userns() {
        return;
    }
    let mut b = Sandbox::builder();
    b.namespaces(namespaces()).no_new_privs(false);
    assert!(b.build().is_err(), "a filter without no_new_privs nor CAP_SYS_ADMIN must be refused");
    b.capabilities(isobox::Capabilities::SYS_ADMIN);
    let sb = b.build().expect("CAP_SYS_ADMIN kept: the filter can be installed");
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status"]);
    let out = sb.output(&cmd).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("NoNewPrivs:\t0") && text.contains("Seccomp:\t2"), "{text}");
}

/// no_new_privs off with a filter, in a sandbox without an init: the filter goes in while the
/// child still holds its capabilities (as runc does), and the program runs filtered without
/// no_new_privs.
#[test]
fn rootless_a_filter_without_no_new_privs_is_installed_before_the_capabilities_go() {
    if !common::require_userns() {
        return;
    }
    let sandbox = common::sandbox(|b| {
        b.no_new_privs(false).init(false);
    });
    let status = common::sh(&sandbox, "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status");
    assert_eq!(status, "NoNewPrivs:\t0\nSeccomp:\t2\n");
    // The filter covers isobox's own last steps then: one it denies fails the spawn there.
    let denies_capset = isobox::Seccomp::default_profile().deny(libc::SYS_capset, nix::errno::Errno::EPERM);
    let sandbox = common::sandbox(|b| {
        b.no_new_privs(false).init(false).seccomp(denies_capset);
    });
    let err = sandbox.status(&common::cmd("/bin/true", &[])).unwrap_err();
    assert!(err.to_string().contains("EPERM"), "{err}");
    // An OCI profile older than close_range: isobox's descriptor cleanup closes one by one.
    let no_close_range = isobox::Seccomp::default_profile().deny(libc::SYS_close_range, nix::errno::Errno::EPERM);
    let sandbox = common::sandbox(|b| {
        b.no_new_privs(false).init(false).seccomp(no_close_range);
    });
    assert_eq!(common::sh(&sandbox, "ls /proc/self/fd | wc -l").trim(), "4", "stdio and ls's directory only");
    let with_init = common::sandbox(|b| {
        b.no_new_privs(true);
    });
    assert!(with_init.status(&common::cmd("/bin/true", &[])).unwrap().success());
    let refused = isobox::Sandbox::builder().namespaces(common::full()).no_new_privs(false).build().unwrap_err();
    assert!(refused.to_string().contains("init(false)"), "{refused}");
}
