//! A sandbox's life: waiting, killing, dropping, timeouts, exit reports, stdio pipes, and
//! what happens to it when its parent process dies.
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::time::{Duration, Instant};

use common::{cmd, is_gone, ms, require_userns, sandbox};
use isobox::{Child, Command, Namespaces, Sandbox, Stdio};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

const SIGKILL: Option<i32> = Some(libc::SIGKILL);

fn sh(script: &str) -> Command {
    cmd("/bin/sh", &["-c", script])
}

/// Spawns `cmd` in the common sandbox.
fn spawn(cmd: &Command) -> Child {
    let sb = sandbox(|_| {});
    sb.spawn(cmd).unwrap_or_else(|e| panic!("spawn: {e}"))
}

#[test]
fn rootless_no_zombie_after_wait() {
    if !require_userns() {
        return;
    }
    let mut child = spawn(&cmd("/bin/true", &[]));
    let pid = child.id();
    assert!(child.wait().expect("wait").success());
    // With isobox's init and no cgroup, wait returns on the init's report of the program's
    // end; the init's own exit (the namespaces' teardown) and reaping follow in the
    // background, within moments.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::fs::metadata(format!("/proc/{pid}")).is_ok() {
        assert!(std::time::Instant::now() < deadline, "pid {pid} still exists 5 s after wait");
        std::thread::sleep(ms(5));
    }
    // Without the init, wait reaps the program itself.
    let mut child = sandbox(|b| {
        b.init(false);
    })
    .spawn(&cmd("/bin/true", &[]))
    .unwrap();
    let pid = child.id();
    assert!(child.wait().expect("wait").success());
    assert!(std::fs::metadata(format!("/proc/{pid}")).is_err(), "pid {pid} still exists after wait");
}

#[test]
fn rootless_dropping_a_child_kills_and_reaps_it() {
    if !require_userns() {
        return;
    }
    let child = spawn(&cmd("sleep", &["1000"]));
    let pid = child.id();
    assert!(!is_gone(pid), "sleep 1000 should be running");
    drop(child);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
    assert!(is_gone(pid), "pid {pid} runs after drop");
    assert!(stat.is_err(), "pid {pid} left after drop: {stat:?}");
}

#[test]
fn rootless_kill_and_signal() {
    if !require_userns() {
        return;
    }
    let mut child = spawn(&cmd("sleep", &["1000"]));
    assert_eq!(child.try_wait().expect("try_wait"), None);
    child.kill().expect("kill");
    let report = child.wait().expect("wait");
    assert_eq!(report.signal(), SIGKILL, "{report:?}");
    assert_eq!(report.code(), None, "{report:?}");
    assert!(!report.success());
    child.kill().expect("kill after wait is a no-op");
    child.signal(isobox::Signal::TERM).expect("signal after wait");
    assert_eq!(child.wait().expect("second wait"), report);
}

#[test]
fn rootless_wait_timeout_returns_none_then_the_report() {
    if !require_userns() {
        return;
    }
    let mut child = spawn(&cmd("sleep", &["1000"]));
    let started = Instant::now();
    let first = child.wait_timeout(ms(200)).expect("wait_timeout");
    let waited = started.elapsed();
    assert_eq!(first, None);
    assert!(waited >= ms(200), "gave up after {waited:?}");
    child.kill().expect("kill");
    let report = child.wait_timeout(ms(5000)).expect("wait_timeout");
    assert_eq!(report.expect("a report").signal(), SIGKILL);
}

#[test]
fn rootless_try_wait() {
    if !require_userns() {
        return;
    }
    let mut cat = cmd("cat", &[]);
    cat.stdin(Stdio::piped()).stdout(Stdio::null());
    let mut child = spawn(&cat);
    std::thread::sleep(ms(50));
    let early = child.try_wait().expect("try_wait");
    assert_eq!(early, None, "cat exited with its stdin open");
    drop(child.stdin.take()); // EOF: cat exits
    let deadline = Instant::now() + ms(30_000);
    let report = loop {
        if let Some(report) = child.try_wait().expect("try_wait") {
            break report;
        }
        assert!(Instant::now() < deadline, "try_wait never saw the exit");
        std::thread::sleep(ms(10));
    };
    assert_eq!(report.code(), Some(0), "{report:?}");
    let again = child.try_wait().expect("try_wait again");
    assert_eq!(again, Some(report));
}

#[test]
fn rootless_exit_report_has_wall_time_and_usage() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|_| {});
    let busy = "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done";
    let report = sb.status(&sh(busy)).expect("status");
    assert_eq!(report.code(), Some(0), "{report:?}");
    let cpu = report.usage.user_time + report.usage.system_time;
    assert!(cpu > Duration::ZERO, "no CPU time: {report:?}");
    assert!(report.wall_time + ms(10) >= cpu, "wall < cpu: {report:?}");
    assert!(report.usage.max_rss_bytes > 0, "no max RSS: {report:?}");
    let three = sb.status(&sh("exit 3")).expect("status");
    assert_eq!(three.code(), Some(3), "{three:?}");
    assert!(!three.success());
}

#[test]
fn rootless_piped_stdin_stdout() {
    if !require_userns() {
        return;
    }
    let mut cat = cmd("cat", &[]);
    cat.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = spawn(&cat);
    let input: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut stdin = child.stdin.take().expect("piped stdin");
    let to_write = input.clone();
    // Writes from a thread (cat's output fills our pipe meanwhile), then closes stdin.
    let writer = std::thread::spawn(move || stdin.write_all(&to_write));
    let mut output = Vec::new();
    let mut stdout = child.stdout.take().expect("piped stdout");
    stdout.read_to_end(&mut output).expect("read");
    writer.join().expect("writer").expect("write to cat");
    assert_eq!(output.len(), input.len());
    assert!(output == input, "cat changed the bytes");
    assert!(child.wait().expect("wait").success());

    let mut script = sh("echo out; echo err >&2; exit 4");
    script.stdout(Stdio::piped()).stderr(Stdio::piped());
    let out = spawn(&script).wait_with_output().expect("output");
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(out.stderr, b"err\n");
    assert_eq!(out.report.code(), Some(4));
}

// ---- The parent dies: the sandbox must die with it. ----

const HELPER_ENV: &str = "ISOBOX_HELPER_PARENT";

/// Not a test: the helper parent process of the tests below, which run this binary again to
/// call it. It spawns a sandbox, prints its pid and waits to be killed.
#[test]
#[ignore = "helper process for the parent-death tests"]
fn helper_parent_process() {
    let Ok(kind) = std::env::var(HELPER_ENV) else {
        return;
    };
    let mut builder = Sandbox::builder();
    builder.namespaces(common::full());
    if kind == "user" {
        builder.namespaces(Namespaces::USER);
    }
    let mut sleep = cmd("sleep", &["1000"]);
    sleep.stdout(Stdio::null()); // keep the test's pipe free of the sandbox
    let sb = builder.build().expect("valid");
    #[cfg(feature = "tokio")]
    if kind == "async" {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let child = runtime.block_on(sb.spawn_async(&sleep)).expect("helper: async spawn");
        println!("SANDBOX_PID={}", child.id());
        std::io::stdout().flush().expect("flush");
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    let pool = (kind == "pool").then(|| sb.pool(2).expect("helper: pool"));
    let child = match &pool {
        Some(pool) => pool.spawn(&sleep).expect("helper: pooled spawn"),
        None => sb.spawn(&sleep).expect("helper: spawn"),
    };
    println!("SANDBOX_PID={}", child.id());
    std::io::stdout().flush().expect("flush");
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// The helper parent and, once known, its sandbox: both are killed however the test ends.
struct Family {
    helper: std::process::Child,
    sandbox: Option<Pid>,
}

impl Drop for Family {
    fn drop(&mut self) {
        let _ = self.helper.kill();
        let _ = self.helper.wait();
        if let Some(pid) = self.sandbox {
            let _ = kill(pid, Signal::SIGKILL);
            let _ = waitpid(pid, None);
        }
    }
}

fn start_helper(kind: &str) -> Family {
    let exe = std::env::current_exe().expect("current_exe");
    let helper = std::process::Command::new(exe)
        .args(["helper_parent_process", "--exact"])
        .args(["--ignored", "--nocapture"])
        .env(HELPER_ENV, kind)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the helper parent");
    let sandbox = None;
    Family { helper, sandbox }
}

/// Reads the helper's stdout (in a thread, so a silent helper cannot hang the test) until the
/// `SANDBOX_PID=` line. libtest may print the test's name before it on the same line.
fn read_sandbox_pid(family: &mut Family) -> Pid {
    let stdout = family.helper.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some((_, pid)) = line.split_once("SANDBOX_PID=") {
                let _ = tx.send(pid.trim().parse::<i32>().expect("pid"));
                return;
            }
        }
    });
    let pid = rx.recv_timeout(Duration::from_secs(120));
    let pid = Pid::from_raw(pid.expect("the helper never printed SANDBOX_PID"));
    family.sandbox = Some(pid);
    pid
}

fn stat(pid: Pid) -> std::io::Result<String> {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
}

/// Polls until the sandbox is gone, reaping it once it has been reparented to us (we are a
/// subreaper). Returns how it ended if we reaped it.
fn wait_until_gone(family: &mut Family, timeout: Duration) -> Option<WaitStatus> {
    let pid = family.sandbox.expect("a sandbox pid");
    let deadline = Instant::now() + timeout;
    loop {
        let waited = waitpid(pid, Some(WaitPidFlag::WNOHANG));
        let reaped = waited.ok().filter(|s| *s != WaitStatus::StillAlive);
        if reaped.is_some() || stat(pid).is_err() {
            family.sandbox = None;
            return reaped;
        }
        let state = stat(pid);
        let msg = format!("sandbox alive {timeout:?} after its parent died: {state:?}");
        assert!(Instant::now() < deadline, "{msg}");
        std::thread::sleep(ms(20));
    }
}

/// The live processes in pid namespace `ns` (not the zombies).
fn in_pid_namespace(ns: &std::path::Path) -> Vec<u32> {
    let pids = std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok());
    let zombie =
        |p: u32| stat(Pid::from_raw(p as i32)).is_ok_and(|s| s.rsplit(") ").next().is_some_and(|r| r.starts_with('Z')));
    pids.filter(|p| std::fs::read_link(format!("/proc/{p}/ns/pid")).is_ok_and(|l| l == ns) && !zombie(*p)).collect()
}

/// The host pids of `pid`'s children (with a pid namespace, the init's: the program).
fn children(pid: Pid) -> Vec<u32> {
    let list = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    list.split_whitespace().map(|p| p.parse().expect("a pid")).collect()
}

fn killing_the_parent_kills_the_sandbox(kind: &str) {
    nix::sys::prctl::set_child_subreaper(true).expect("become a subreaper");
    let mut family = start_helper(kind);
    let pid = read_sandbox_pid(&mut family);
    assert!(stat(pid).is_ok(), "the sandbox should run with its parent");
    // With a pid namespace the first process is isobox's init and the program its child; a
    // pooled command is the program itself, beside the sandbox's init.
    let program = children(pid);
    assert_eq!(program.len(), usize::from(kind != "user" && kind != "pool"), "{program:?}");
    let pid_ns = (kind != "user").then(|| std::fs::read_link(format!("/proc/{pid}/ns/pid")).expect("its pid ns"));
    family.helper.kill().expect("SIGKILL the helper");
    family.helper.wait().expect("reap the helper");
    let status = wait_until_gone(&mut family, ms(5000));
    if let Some(ns) = pid_ns {
        let deadline = Instant::now() + ms(5000);
        while !in_pid_namespace(&ns).is_empty() {
            let left: Vec<_> = in_pid_namespace(&ns).iter().map(|p| stat(Pid::from_raw(*p as i32))).collect();
            assert!(Instant::now() < deadline, "left in {ns:?}: {left:?}");
            std::thread::sleep(ms(20));
        }
    }
    assert!(is_gone(pid.as_raw() as u32));
    assert!(stat(pid).is_err(), "sandbox {pid} left as a zombie");
    for p in program {
        assert!(stat(Pid::from_raw(p as i32)).is_err(), "the program {p} outlived its sandbox");
    }
    if let Some(status) = status {
        let killed = WaitStatus::Signaled(pid, Signal::SIGKILL, false);
        assert_eq!(status, killed);
    }
}

#[test]
fn rootless_killing_the_parent_kills_the_sandbox() {
    if !require_userns() {
        return;
    }
    killing_the_parent_kills_the_sandbox("full");
}

#[test]
fn rootless_killing_the_parent_kills_a_pooled_sandbox() {
    if !require_userns() {
        return;
    }
    killing_the_parent_kills_the_sandbox("pool");
}

#[test]
#[cfg(feature = "tokio")]
fn rootless_killing_the_parent_kills_an_async_sandbox() {
    if !require_userns() {
        return;
    }
    killing_the_parent_kills_the_sandbox("async");
}

#[test]
fn rootless_killing_the_parent_kills_a_sandbox_without_a_pid_namespace() {
    if !require_userns() {
        return;
    }
    killing_the_parent_kills_the_sandbox("user");
}
