//! Held spawns (`Sandbox::spawn_held`): the program does not run before its gate opens, runs
//! as a spawn's would once it does, fails typed when the gate closes without a byte, and a
//! detached held sandbox outlives its handle, cgroup included.
mod common;

use std::io::Read;
use std::time::Duration;

use common::{require_root, require_userns, sandbox};
use isobox::{Command, Error, HeldError, Sandbox, Stdio};

fn sh(script: &str) -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", script]);
    cmd
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string()
}

#[test]
fn rootless_a_held_program_runs_only_once_its_gate_has_a_byte() {
    if !require_userns() {
        return;
    }
    for init in [true, false] {
        let (gate, opener) = nix::unistd::pipe().unwrap();
        let mut cmd = sh("echo \"started in $(pwd)\"");
        cmd.current_dir("/tmp").stdout(Stdio::piped());
        let held = sandbox(|b| {
            b.init(init);
        })
        .spawn_held(&cmd, gate)
        .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let first = if init { "isobox-init" } else { "isobox-wait" };
        assert_eq!(comm(held.id()), first, "the program must not have been executed yet");
        nix::unistd::write(&opener, b"x").unwrap();
        assert_started(held, init);
    }
}

fn assert_started(held: isobox::HeldChild, init: bool) {
    {
        let mut child = held.started().unwrap();
        let mut out = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        assert!(child.wait().unwrap().success(), "init {init}");
        assert_eq!(out, "started in /tmp\n", "init {init}");
    }
}

#[test]
fn rootless_a_gate_closed_without_a_byte_fails_the_start_and_runs_nothing() {
    if !require_userns() {
        return;
    }
    let (gate, opener) = nix::unistd::pipe().unwrap();
    let held = sandbox(|_| {}).spawn_held(&sh("exit 0"), gate).unwrap();
    let pid = held.id();
    drop(opener);
    let err = held.started().unwrap_err();
    assert!(err.to_string().contains("ECANCELED") || err.to_string().contains("canceled"), "{err}");
    assert!(common::is_gone(pid), "the held process is gone once its start failed");
}

#[test]
fn rootless_a_missing_program_is_refused_before_the_sandbox_is_held() {
    if !require_userns() {
        return;
    }
    let (gate, _opener) = nix::unistd::pipe().unwrap();
    let err = sandbox(|_| {}).spawn_held(&Command::new("/no/such/program"), gate).unwrap_err();
    assert!(matches!(err, Error::ProgramNotFound { .. }), "{err}");
}

#[test]
fn rootless_a_held_sandbox_that_dies_with_its_parent_is_not_detached() {
    if !require_userns() {
        return;
    }
    let (gate, _opener) = nix::unistd::pipe().unwrap();
    let held = sandbox(|_| {}).spawn_held(&sh("exit 0"), gate).unwrap();
    let pid = held.id();
    let err = held.detach().unwrap_err();
    assert!(matches!(err, Error::Held(HeldError::DiesWithParent)), "{err}");
    assert!(common::is_gone(pid), "refused, the sandbox is killed");
}

/// What `create` and `start` of an OCI runtime do: the handle goes, the sandbox and its
/// cgroup stay, and a byte from whoever holds the gate starts it.
#[test]
fn a_detached_held_sandbox_outlives_its_handle_with_its_cgroup() {
    if !require_root() {
        return;
    }
    let (gate, opener) = nix::unistd::pipe().unwrap();
    let parent = format!("/isobox-test-held-{}/inner", std::process::id());
    let sandbox = Sandbox::builder()
        .namespaces(common::full())
        .die_with_parent(false)
        .init(false)
        .pids_max(16)
        .cgroup_parent(&parent)
        .build()
        .unwrap();
    let held = sandbox.spawn_held(&sh("exit 7"), gate).unwrap();
    let detached = held.detach().unwrap();
    let pid = detached.pid();
    assert!(!detached.cgroup_dirs().is_empty());
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(comm(pid), "isobox-wait", "still held after its handle went");
    for dir in detached.cgroup_dirs() {
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap();
        assert!(procs.lines().any(|l| l == pid.to_string()), "{} holds {procs}", dir.display());
    }
    nix::unistd::write(&opener, b"x").unwrap();
    let status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid as i32), None).unwrap();
    assert_eq!(status, nix::sys::wait::WaitStatus::Exited(nix::unistd::Pid::from_raw(pid as i32), 7));
    // What another process would do with the recorded parts: the cgroups and the parents
    // made for them go.
    let again =
        isobox::Detached::from_parts(pid, detached.cgroup_dirs().to_vec(), detached.cgroup_parents_made().to_vec());
    again.remove_cgroups().unwrap();
    assert!(detached.cgroup_dirs().iter().all(|d| !d.exists()));
    assert!(!detached.cgroup_parents_made().is_empty(), "the parent below the hierarchies' roots was made");
    assert!(detached.cgroup_parents_made().iter().all(|d| !d.exists()), "{:?}", detached.cgroup_parents_made());
}

#[test]
fn rootless_a_held_program_with_unset_stdio_has_the_callers() {
    if !require_userns() {
        return;
    }
    let (gate, opener) = nix::unistd::pipe().unwrap();
    let held = sandbox(|b| {
        b.init(false);
    })
    .spawn_held(&sh("sleep 5"), gate)
    .unwrap();
    for fd in 0..3 {
        let ours = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok();
        let theirs = std::fs::read_link(format!("/proc/{}/fd/{fd}", held.id())).ok();
        assert_eq!(theirs, ours, "descriptor {fd}");
    }
    nix::unistd::write(&opener, b"x").unwrap();
    let mut child = held.started().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
}

/// An OCI profile written before Linux 5.9 allows close but not close_range: the waiter
/// closes one by one then, and nothing of the caller's leaks into the program.
#[test]
fn rootless_a_held_spawn_works_under_a_filter_without_close_range() {
    if !require_userns() {
        return;
    }
    let filter = isobox::Seccomp::default_profile().deny(libc::SYS_close_range, nix::errno::Errno::EPERM);
    let (gate, opener) = nix::unistd::pipe().unwrap();
    let mut cmd = sh("ls /proc/self/fd | wc -l");
    cmd.stdout(Stdio::piped());
    let held = sandbox(|b| {
        b.seccomp(filter);
    })
    .spawn_held(&cmd, gate)
    .unwrap();
    nix::unistd::write(&opener, b"x").unwrap();
    let out = held.started().unwrap().wait_with_output().unwrap();
    assert!(out.report.success(), "{}", out.report);
    // stdin, stdout, stderr, and the directory ls reads.
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "4");
}

/// Recorded parts come back from a file another process could have written: only a leaf
/// cgroup below a hierarchy's mount is removed, nothing else is touched; piped stdio, whose
/// other ends this process holds, cannot be detached.
#[test]
fn rootless_recorded_cgroups_outside_a_hierarchy_are_refused_and_piped_stdio_is_not_detached() {
    let empty = tempfile::tempdir().unwrap();
    let bad = [empty.path().to_path_buf(), "/sys/fs/cgroup".into(), "relative".into()];
    for dir in bad {
        let parts = isobox::Detached::from_parts(1, vec![dir.clone()], Vec::new());
        assert!(parts.remove_cgroups().is_err() || !dir.exists(), "{}", dir.display());
    }
    assert!(empty.path().exists(), "an empty directory outside the cgroup file system is left");
    let parents = isobox::Detached::from_parts(1, Vec::new(), vec![empty.path().to_path_buf()]);
    parents.remove_cgroups().unwrap();
    assert!(empty.path().exists(), "a parent outside the cgroup file system is left");
    if !require_userns() {
        return;
    }
    let (gate, _opener) = nix::unistd::pipe().unwrap();
    let mut cmd = sh("true");
    cmd.stdout(Stdio::piped());
    let held = sandbox(|b| {
        b.die_with_parent(false).init(false);
    })
    .spawn_held(&cmd, gate)
    .unwrap();
    let err = held.detach().unwrap_err();
    assert!(matches!(err, Error::Held(HeldError::CannotDetach { .. })) && err.to_string().contains("piped"), "{err}");
}
