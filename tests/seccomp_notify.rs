//! Seccomp user notification, tried from inside: a handler thread of the caller's answers the
//! program's notified calls (an errno, a value, or letting them run), the program never holds
//! the listener, and a sandbox without notify rules has no notifier.
mod common;

use std::thread::{self, JoinHandle};

use common::{require_userns, sh};
use isobox::{
    Command, ConfigError, Error, Namespaces, Notification, Notifier, Output, Response, Sandbox, Seccomp, SeccompError,
    Stdio,
};
use nix::errno::Errno;

fn sandbox(filter: Seccomp) -> Sandbox {
    let mut b = Sandbox::builder();
    b.namespaces(Namespaces::USER | Namespaces::PID | Namespaces::MOUNT | Namespaces::UTS | Namespaces::IPC)
        .seccomp(filter);
    b.build().expect("valid sandbox")
}

/// mkdir and mkdirat handed to the caller, over the default profile.
fn notify_mkdir() -> Seccomp {
    Seccomp::default_profile().notify(libc::SYS_mkdir).notify(libc::SYS_mkdirat)
}

/// Answers every notification with `answer` until the sandbox is gone; returns what it saw.
fn handler(notifier: Notifier, answer: Response) -> JoinHandle<Vec<Notification>> {
    thread::spawn(move || {
        let mut seen = Vec::new();
        while let Some(n) = notifier.recv().expect("recv") {
            assert!(notifier.id_valid(n.id).expect("id_valid"), "a received call waits for its answer");
            notifier.respond(n.id, answer).expect("respond");
            assert!(!notifier.id_valid(n.id).expect("id_valid"), "an answered call no longer waits");
            seen.push(n);
        }
        seen
    })
}

/// Runs `program args` with a handler answering `answer`; returns the output and what the
/// handler saw.
fn run(sb: &Sandbox, program: &str, args: &[&str], answer: Response) -> (Output, Vec<Notification>) {
    let mut cmd = Command::new(program);
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = sb.spawn(&cmd).expect("spawns");
    let notifier = child.take_notifier().expect("a filter with notify rules has a notifier");
    assert!(child.take_notifier().is_none(), "the notifier is taken once");
    let seen = handler(notifier, answer);
    let out = child.wait_with_output().expect("waits");
    (out, seen.join().expect("the handler ends with the sandbox"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn rootless_a_notified_mkdir_answered_with_eperm_fails_with_eperm() {
    if !require_userns() {
        return;
    }
    let script = "mkdir /tmp/denied; echo \"status $?\"; test -d /tmp/denied && echo exists || echo absent; echo done";
    let (out, seen) = run(&sandbox(notify_mkdir()), "/bin/sh", &["-c", script], Response::Errno(Errno::EPERM));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(stdout, "status 1\nabsent\ndone\n", "stderr: {stderr}");
    assert!(stderr.contains("Operation not permitted"), "{stderr}");
    assert!(out.report.success(), "{}", out.report);
    assert_eq!(seen.len(), 1, "{seen:?}");
    let n = seen[0];
    assert!(n.nr == libc::SYS_mkdir || n.nr == libc::SYS_mkdirat, "{n:?}");
    assert!(n.pid > 0 && n.args.iter().any(|a| *a != 0), "{n:?}");
}

#[test]
fn rootless_a_notified_mkdir_answered_with_continue_runs() {
    if !require_userns() {
        return;
    }
    let script = "mkdir /tmp/made && test -d /tmp/made && echo made; ls / >/dev/null && echo listed";
    let (out, seen) = run(&sandbox(notify_mkdir()), "/bin/sh", &["-c", script], Response::Continue);
    assert_eq!(text(&out.stdout), "made\nlisted\n", "stderr: {}", text(&out.stderr));
    assert!(out.report.success(), "{}", out.report);
    assert_eq!(seen.len(), 1, "{seen:?}");
}

#[test]
fn rootless_a_value_response_is_what_the_call_returns() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(Seccomp::default_profile().notify(libc::SYS_getppid));
    let code = "import os; print(os.getppid()); print(os.getpid())";
    let (out, seen) = run(&sb, "python3", &["-c", code], Response::Value(4242));
    // pid 2 of its pid namespace, beside the init: its real parent is pid 1.
    assert_eq!(text(&out.stdout), "4242\n2\n", "stderr: {}", text(&out.stderr));
    assert!(!seen.is_empty() && seen.iter().all(|n| n.nr == libc::SYS_getppid), "{seen:?}");
}

#[test]
fn rootless_the_program_never_holds_the_listener() {
    if !require_userns() {
        return;
    }
    // The shell's own descriptors ($$: /proc/self would be readlink's); its stdout is a pipe,
    // so an empty listing cannot pass.
    let script = "for f in /proc/$$/fd/*; do readlink $f; done; echo end";
    let (out, _) = run(&sandbox(notify_mkdir()), "/bin/sh", &["-c", script], Response::Continue);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("pipe:["), "the listing is empty: {stdout}");
    assert!(stdout.ends_with("end\n") && !stdout.contains("seccomp"), "{stdout}");
}

#[test]
fn rootless_without_notify_rules_there_is_no_notifier() {
    if !require_userns() {
        return;
    }
    for filter in [Seccomp::default_profile(), Seccomp::none(), Seccomp::default_profile().allow(libc::SYS_mkdir)] {
        let sb = sandbox(filter);
        let mut child = sb.spawn(&Command::new("/bin/true")).expect("spawns");
        assert!(child.take_notifier().is_none());
        assert!(child.wait().expect("waits").success());
        assert_eq!(sh(&sb, "mkdir /tmp/x && echo ok"), "ok\n");
    }
}

#[test]
fn rootless_a_failed_exec_with_notify_rules_is_reported_as_such() {
    if !require_userns() {
        return;
    }
    // Not executable: execve answers EACCES after the handover, and the record still gets out.
    let err = sandbox(notify_mkdir()).spawn(&Command::new("/etc/passwd")).expect_err("not executable");
    assert!(matches!(err, Error::Setup(ref e) if e.step == isobox::Step::Exec && e.errno == Errno::EACCES), "{err}");
    let err = sandbox(notify_mkdir()).spawn(&Command::new("/no/such/program")).expect_err("no such program");
    assert!(matches!(err, Error::ProgramNotFound { .. }), "{err}");
}

#[test]
fn notify_rules_for_what_isobox_makes_before_the_handover_are_refused() {
    for nr in [libc::SYS_execve, libc::SYS_exit_group] {
        let err = Sandbox::builder().seccomp(Seccomp::default_profile().notify(nr)).build().expect_err("refused");
        assert!(
            matches!(err, Error::Config(ConfigError::Seccomp(SeccompError::CannotNotify { nr: got, .. })) if got == nr),
            "{err}"
        );
    }
}

#[test]
fn rootless_waiting_without_taking_the_notifier_does_not_hang() {
    if !require_userns() {
        return;
    }
    // Nobody answers: wait drops the listener, and the notified mkdir fails (ENOSYS).
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "mkdir /tmp/x 2>/dev/null; echo $?; test -d /tmp/x && echo made"]).stdout(Stdio::piped());
    let child = sandbox(notify_mkdir()).spawn(&cmd).expect("spawns");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output().expect("waits"));
    });
    let out = rx.recv_timeout(std::time::Duration::from_secs(30)).expect("wait returns");
    assert_eq!(text(&out.stdout), "1\n");
}

#[test]
fn rootless_the_listener_is_taken_when_the_program_runs_as_another_uid() {
    if !require_userns() {
        return;
    }
    // Subordinate ids: the program's uid inside (1) is not the caller's on the host, and the
    // switch makes the shared memory undumpable before the listener is taken.
    let helpers = std::path::Path::new("/usr/bin/newuidmap").exists();
    if !common::require(helpers, "newuidmap/newgidmap are not installed (package uidmap)") {
        return;
    }
    let mut b = Sandbox::builder();
    b.namespaces(Namespaces::USER | Namespaces::PID | Namespaces::MOUNT).user_mapping(isobox::UserMapping::Subordinate);
    let sb = match b.seccomp(notify_mkdir()).build() {
        Ok(sb) => sb,
        Err(e) => {
            common::require(false, &format!("this user has no subordinate ids: {e}"));
            return;
        }
    };
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "mkdir /tmp/x; echo $?; id -u"]).uid(1).gid(1).stdout(Stdio::piped());
    let mut child = sb.spawn(&cmd).expect("spawns as uid 1 with a notifier");
    let seen = handler(child.take_notifier().expect("a notifier"), Response::Errno(Errno::EPERM));
    let out = child.wait_with_output().expect("waits");
    assert_eq!(text(&out.stdout), "1\n1\n");
    assert!(!seen.join().unwrap().is_empty());
}

#[test]
fn rootless_a_low_open_files_limit_is_not_spent_by_the_callers_descriptors() {
    if !require_userns() {
        return;
    }
    // The caller holds descriptors above the program's limit: the child's copies of them are
    // gone before the limit is set, so its listener and the program's pipes still fit.
    let held: Vec<std::fs::File> = (0..100).map(|_| std::fs::File::open("/dev/null").unwrap()).collect();
    let mut b = Sandbox::builder();
    b.namespaces(Namespaces::USER | Namespaces::PID | Namespaces::MOUNT).seccomp(notify_mkdir()).rlimit(
        isobox::Resource::NoFile,
        32,
        32,
    );
    let sb = b.build().unwrap();
    let (out, seen) = run(
        &sb,
        "/bin/sh",
        &["-c", "ulimit -n; mkdir /tmp/x; echo $?; ls /proc/self/fd | wc -l"],
        Response::Errno(Errno::EPERM),
    );
    drop(held);
    // sh's fds: 0, 1, 2, the one ls lists its fd directory with, and sh's own copies.
    let said = text(&out.stdout);
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines[..2], ["32", "1"], "{said}\n{}", text(&out.stderr));
    assert!(lines[2].parse::<u32>().unwrap() < 8, "the caller's descriptors reached the program: {said}");
    assert!(!seen.is_empty(), "the listener worked");
}
