//! Child::exec: more commands in a live sandbox, each attempt made from inside.
mod common;

use std::time::Duration;

use common::{require_root, require_userns, sandbox, TRY};
use isobox::{Child, Command, ConfigError, Error, ExecError, Namespaces, Resource, Sandbox, Stdio};

fn sleeper(sb: &Sandbox) -> Child {
    let mut cmd = Command::new("/bin/sleep");
    cmd.arg("100");
    sb.spawn(&cmd).unwrap()
}

fn sh_cmd(script: &str) -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", script]).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

/// Runs `script` in `first`'s sandbox, asserts success, returns stdout.
fn exec_sh(first: &Child, script: &str) -> String {
    let out = first.exec(&sh_cmd(script)).unwrap_or_else(|e| panic!("exec `{script}`: {e}"));
    let out = out.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.report.success(), "`{script}`: {:?}\n{stderr}", out.report);
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `f` in a thread and fails the test if it takes longer than `secs` (a hang).
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(f()).unwrap());
    rx.recv_timeout(Duration::from_secs(secs)).expect("hung")
}

#[test]
fn rootless_an_exec_shares_the_sandboxs_namespaces_root_and_files() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|b| {
        b.namespaces(common::full() | Namespaces::NET).hostname("box");
    });
    let first = sleeper(&sb);
    // pid 1 is isobox's init (not dumpable: its /proc/1/ns is not ours to read), the sleep
    // beside it one of the sandbox's processes, whose namespaces must be ours.
    let script = "echo one > /tmp/shared; hostname; pwd; for p in /proc/[0-9]*; do \
                  [ \"$(tr '\\0' ' ' < $p/cmdline)\" = '/bin/sleep 100 ' ] && echo \"the sleep\" && sp=$p; done; \
                  for n in mnt pid uts ipc net user; do \
                  [ \"$(readlink /proc/self/ns/$n)\" = \"$(readlink $sp/ns/$n)\" ] && echo \"$n same\"; done; \
                  ls /proc | grep -c '^[0-9]'";
    let out = exec_sh(&first, script);
    let expected = "box\n/\nthe sleep\nmnt same\npid same\nuts same\nipc same\nnet same\nuser same\n";
    assert!(out.starts_with(expected), "{out}");
    // The sandbox's processes only: isobox's init, the sleep, the shell and its ls | grep.
    let visible: u32 = out.lines().last().unwrap().parse().unwrap();
    assert!((2..=5).contains(&visible), "{out}");
    // A second exec sees the first one's file on the sandbox's own /tmp; the host does not.
    assert_eq!(exec_sh(&first, "cat /tmp/shared"), "one\n");
    let host_tmp = tempfile::tempdir().unwrap();
    let probe = format!("test -e {} && echo host || echo hidden", host_tmp.path().display());
    assert_eq!(exec_sh(&first, &probe), "hidden\n");
}

#[test]
fn rootless_an_exec_has_the_sandboxs_hardening() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|b| {
        b.rlimit(Resource::NoFile, 64, 64);
    });
    let first = sleeper(&sb);
    let script = format!(
        "{TRY}grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status | tr '\\t' ' '; \
         ulimit -n; id -u; t unshare unshare -U true; t mount mount -t tmpfs none /tmp"
    );
    let out = exec_sh(&first, &script);
    for line in ["CapInh: 0000000000000000", "CapPrm: 0000000000000000", "CapEff: 0000000000000000"] {
        assert!(out.contains(line), "{line} missing:\n{out}");
    }
    for line in ["CapBnd: 0000000000000000", "CapAmb: 0000000000000000", "NoNewPrivs: 1", "Seccomp: 2"] {
        assert!(out.contains(line), "{line} missing:\n{out}");
    }
    assert!(out.ends_with("64\n0\nunshare failed\nmount failed\n"), "{out}");
}

#[test]
fn rootless_an_id_the_sandbox_does_not_map_is_a_typed_error() {
    if !require_userns() {
        return;
    }
    let mut first = sleeper(&sandbox(|_| {}));
    let mut cmd = Command::new("/bin/true");
    cmd.uid(1000);
    let err = first.exec(&cmd).unwrap_err();
    assert!(matches!(err, Error::Config(ConfigError::UnmappedId { kind: "uid", id: 1000 })), "{err}");
    let missing = first.exec(&Command::new("/no/such/program")).unwrap_err();
    assert!(matches!(missing, Error::ProgramNotFound { .. }), "{missing}");
    assert!(first.try_wait().unwrap().is_none(), "the sandbox runs on");
}

#[test]
fn rootless_exec_into_a_sandbox_that_exited_is_a_typed_error() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|_| {});
    // Exited but not reaped: setns finds no namespaces (ESRCH).
    let mut first = sb.spawn(&Command::new("/bin/true")).unwrap();
    let pid = first.id();
    while !common::is_gone(pid) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let err = first.exec(&Command::new("/bin/true")).unwrap_err();
    assert!(matches!(err, Error::Exec(ExecError::SandboxGone { pid: p }) if p as u32 == pid), "{err}");
    // Reaped.
    assert!(first.wait().unwrap().success());
    let err = first.exec(&Command::new("/bin/true")).unwrap_err();
    assert!(matches!(err, Error::Exec(ExecError::SandboxGone { .. })), "{err}");
}

#[test]
fn rootless_killing_an_exec_d_process_leaves_the_sandbox_running() {
    if !require_userns() {
        return;
    }
    let mut first = sleeper(&sandbox(|_| {}));
    let mut second = first.exec(Command::new("/bin/sleep").arg("100")).unwrap();
    assert_ne!(second.id(), first.id());
    second.kill().unwrap();
    assert_eq!(second.wait().unwrap().signal(), Some(libc::SIGKILL));
    assert!(first.try_wait().unwrap().is_none(), "the sandbox runs on");
    assert_eq!(exec_sh(&first, "echo still"), "still\n");
    first.kill().unwrap();
    assert_eq!(first.wait().unwrap().signal(), Some(libc::SIGKILL));
}

#[test]
fn rootless_the_sandboxs_end_ends_its_exec_d_processes_and_waiting_does_not_hang() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|_| {});
    // The first process exits on its own while an exec'd one runs: the pid namespace ends,
    // and its end waits until we reap the exec'd process, which waiting for the first does.
    let mut first = sb.spawn(Command::new("/bin/sleep").arg("0.3")).unwrap();
    let mut second = first.exec(Command::new("/bin/sleep").arg("100")).unwrap();
    let report = within(20, move || first.wait().unwrap());
    assert!(report.success(), "{report:?}");
    let second = within(20, move || second.wait().unwrap());
    assert_eq!(second.signal(), Some(libc::SIGKILL));
    // Dropping the first Child before an exec'd one it outlives does not hang either.
    let first = sleeper(&sb);
    let second = first.exec(Command::new("/bin/sleep").arg("100")).unwrap();
    let third = second.exec(Command::new("/bin/sleep").arg("100")).unwrap();
    within(20, move || {
        let pair = (first, second, third); // dropped in field order: the first first
        drop(pair);
    });
}

#[test]
fn rootless_a_sandbox_without_a_pid_namespace_is_joined_in_what_it_has() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|b| {
        b.namespaces(Namespaces::USER | Namespaces::MOUNT | Namespaces::UTS).hostname("nopid");
    });
    let first = sleeper(&sb);
    let second = first.exec(&sh_cmd("echo two > /tmp/x; hostname")).unwrap().wait_with_output().unwrap();
    assert_eq!(second.stdout, b"nopid\n");
    assert_eq!(exec_sh(&first, "cat /tmp/x"), "two\n");
}

#[test]
fn an_exec_runs_in_the_sandboxs_cgroup_and_the_caller_does_not() {
    if !require_root() {
        return;
    }
    let sb = sandbox(|b| {
        b.pids_max(32);
    });
    let mut first = sleeper(&sb);
    let dirs: Vec<_> = first.cgroup_dirs().iter().map(|d| d.to_path_buf()).collect();
    assert!(!dirs.is_empty());
    let mut second = first.exec(Command::new("/bin/sleep").arg("100")).unwrap();
    for dir in &dirs {
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap();
        let mut pids: Vec<u32> = procs.lines().map(|l| l.parse().unwrap()).collect();
        pids.sort_unstable();
        let mut expected = vec![first.id(), second.id()];
        expected.sort_unstable();
        // With isobox's init, the program is one more; nothing that shares our memory is there.
        assert!(pids.iter().all(|p| *p != std::process::id()), "{dir:?}: {pids:?}");
        assert!(expected.iter().all(|p| pids.contains(p)) && pids.len() <= 3, "{dir:?}: {pids:?} {expected:?}");
    }
    let inside = exec_sh(&first, "[ \"$(cat /proc/self/cgroup)\" = \"$(cat /proc/1/cgroup)\" ] && echo same");
    assert_eq!(inside, "same\n");
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(second.wait().unwrap().signal(), Some(libc::SIGKILL));
    assert!(dirs.iter().all(|d| !d.exists()), "cgroup left: {dirs:?}");
}

#[cfg(feature = "landlock")]
#[test]
fn rootless_an_exec_is_confined_by_the_sandboxs_landlock_rules() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|b| {
        b.landlock(isobox::Landlock::new().read_exec("/").read_write("/tmp"));
    });
    let first = sleeper(&sb);
    // (No /dev/null: the rules leave it read-only.)
    let out = exec_sh(&first, "touch /tmp/ok && echo tmp ok; touch /etc/denied 2>/tmp/err || echo etc failed");
    assert_eq!(out, "tmp ok\netc failed\n");
}
