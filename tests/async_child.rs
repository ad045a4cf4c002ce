//! The async child (feature `tokio`): many concurrent sandboxes on a multi-threaded runtime,
//! cancellation (a dropped wait, a dropped child, a dropped spawn) that leaves no process, no
//! zombie and no cgroup, and sandboxes that outlive tokio's idle blocking threads.
mod common;
#[path = "common/traced.rs"]
mod traced;

use std::time::{Duration, Instant};

use common::{cmd, ms, require_root, require_userns, sandbox};
use isobox::tokio::AsyncChild;
use isobox::{Sandbox, Stdio};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SIGKILL: Option<i32> = Some(libc::SIGKILL);

/// True once `/proc/<pid>` is gone: neither running nor a zombie.
fn reaped(pid: u32) -> bool {
    std::fs::metadata(format!("/proc/{pid}")).is_err()
}

/// Waits up to 10 s for `done`, off the runtime's worker (a blocking sleep is fine in a test).
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + ms(10_000);
    while !done() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(ms(10)).await;
    }
}

async fn spawn_sleeper(sb: &Sandbox) -> AsyncChild {
    sb.spawn_async(&cmd("sleep", &["1000"])).await.unwrap_or_else(|e| panic!("spawn_async: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rootless_200_concurrent_sandboxes_each_with_its_own_output() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|_| {});
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let mut echo = cmd("/bin/sh", &["-c", "echo out $0; echo err $0 >&2; exit $(($0 % 7))"]);
            echo.arg(i.to_string()).stdout(Stdio::piped()).stderr(Stdio::piped());
            let spawned = sb.spawn_async(&echo);
            tokio::spawn(async move { (i, spawned.await.expect("spawn_async").wait_with_output().await) })
        })
        .collect();
    for task in tasks {
        let (i, out) = task.await.expect("task");
        let out = out.expect("wait_with_output");
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("out {i}\n"));
        assert_eq!(String::from_utf8_lossy(&out.stderr), format!("err {i}\n"));
        assert_eq!(out.report.code(), Some(i % 7), "{:?}", out.report);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rootless_output_async_pipes_stdin_and_stdout() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|_| {});
    let out = sb.output_async(&cmd("/bin/sh", &["-c", "echo hi; echo oops >&2"])).await.expect("output_async");
    assert_eq!((out.stdout.as_slice(), out.stderr.as_slice()), (&b"hi\n"[..], &b"oops\n"[..]));
    let mut cat = cmd("cat", &[]);
    cat.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = sb.spawn_async(&cat).await.expect("spawn_async");
    let mut stdin = child.stdin.take().expect("stdin pipe");
    let mut stdout = child.stdout.take().expect("stdout pipe");
    stdin.write_all(b"ping\n").await.expect("write");
    let mut line = [0u8; 5];
    stdout.read_exact(&mut line).await.expect("read");
    assert_eq!(&line, b"ping\n");
    drop(stdin); // EOF: cat exits
    assert_eq!(child.wait().await.expect("wait").code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rootless_wait_timeout_kill_and_signal() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|_| {});
    let mut child = spawn_sleeper(&sb).await;
    let started = Instant::now();
    assert_eq!(child.wait_timeout(ms(200)).await.expect("wait_timeout"), None);
    assert!(started.elapsed() >= ms(200), "gave up after {:?}", started.elapsed());
    assert_eq!(child.try_wait().expect("try_wait"), None);
    child.kill().expect("kill");
    let report = child.wait_timeout(ms(10_000)).await.expect("wait_timeout").expect("a report");
    assert_eq!(report.signal(), SIGKILL, "{report:?}");
    child.signal(isobox::Signal::TERM).expect("signal after wait is a no-op");
    assert_eq!(child.wait().await.expect("second wait"), report);
    assert!(reaped(child.id()), "pid {} left after wait", child.id());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rootless_a_wait_future_dropped_mid_wait_loses_nothing_and_a_dropped_child_leaves_nothing() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|_| {});
    let mut child = spawn_sleeper(&sb).await;
    let pid = child.id();
    // The wait future is dropped when the timeout fires, mid-wait.
    assert!(tokio::time::timeout(ms(100), child.wait()).await.is_err(), "sleep 1000 exited");
    assert!(!reaped(pid), "the sandbox should still run after a dropped wait");
    child.kill().expect("kill");
    assert_eq!(child.wait().await.expect("wait after a dropped wait").signal(), SIGKILL);
    assert!(reaped(pid), "pid {pid} left after wait");

    let child = spawn_sleeper(&sb).await;
    let pid = child.id();
    let started = Instant::now();
    drop(child);
    assert!(started.elapsed() < ms(100), "drop blocked for {:?}", started.elapsed());
    eventually(&format!("pid {pid} reaped after drop (no process, no zombie)"), || reaped(pid)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rootless_spawn_futures_dropped_mid_spawn_leave_no_process() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|_| {});
    // Each future is polled once (the job is queued) and dropped after 0..4 ms: some before the
    // spawner gets to the job, some while it spawns, some after; a unique sleep time marks
    // each attempt's program.
    let marks: Vec<String> = (0..20).map(|i| format!("{}.{:03}", 900 + i, std::process::id() % 1000)).collect();
    for (i, mark) in marks.iter().enumerate() {
        let spawning = sb.spawn_async(&cmd("sleep", &[mark]));
        if let Ok(child) = tokio::time::timeout(Duration::from_micros(250 * i as u64 % 4000), spawning).await {
            drop(child.expect("spawn_async"));
        }
    }
    let running = |mark: &str| {
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .any(|e| std::fs::read(e.path().join("cmdline")).is_ok_and(|c| c == format!("sleep\0{mark}\0").as_bytes()))
    };
    for mark in &marks {
        eventually(&format!("no `sleep {mark}` left"), || !running(mark)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_child_leaves_no_cgroup() {
    if !require_root() {
        return;
    }
    let sb = sandbox(|b| {
        b.pids_max(32);
    });
    let mut child = spawn_sleeper(&sb).await;
    let dirs: Vec<_> = child.cgroup_dirs().into_iter().map(|d| d.to_path_buf()).collect();
    assert!(!dirs.is_empty() && dirs.iter().all(|d| d.is_dir()), "no cgroup: {dirs:?}");
    assert!(child.cgroup_stats().is_some());
    let pid = child.id();
    assert!(tokio::time::timeout(ms(50), child.wait()).await.is_err(), "sleep 1000 exited");
    drop(child);
    eventually(&format!("pid {pid} reaped"), || reaped(pid)).await;
    eventually(&format!("cgroup {dirs:?} removed"), || dirs.iter().all(|d| !d.exists())).await;
}

/// A runtime whose idle blocking threads exit after 100 ms (tokio's default is 10 s).
fn short_keep_alive_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_keep_alive(ms(100))
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn rootless_a_sandbox_outlives_tokios_idle_blocking_threads() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|_| {});
    short_keep_alive_runtime().block_on(async {
        // Some blocking work first, so that the runtime has a blocking thread to retire.
        tokio::task::spawn_blocking(|| ()).await.unwrap();
        let mut child = spawn_sleeper(&sb).await;
        tokio::time::sleep(ms(1000)).await; // ten keep-alives
        assert_eq!(child.try_wait().expect("try_wait"), None, "the sandbox died with an idle thread");
        assert!(!reaped(child.id()));
        child.kill().expect("kill");
        assert_eq!(child.wait().await.expect("wait").signal(), SIGKILL);
    });
}

/// Why `spawn_async` does not use `spawn_blocking`: the die-with-parent signal follows the
/// spawning thread, and a sandbox spawned on a blocking thread is killed when that thread
/// retires (as the test above would be, had `spawn_async` spawned there: tried once, it
/// failed with "the sandbox died with an idle thread").
#[test]
fn rootless_a_sandbox_spawned_on_a_blocking_thread_dies_when_the_thread_retires() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|_| {});
    short_keep_alive_runtime().block_on(async {
        let sleeper = cmd("sleep", &["1000"]);
        let mut child = tokio::task::spawn_blocking(move || sb.spawn(&sleeper)).await.unwrap().expect("spawn");
        let report = child.wait_timeout(ms(10_000)).expect("wait_timeout").expect("killed with its thread");
        assert_eq!(report.signal(), SIGKILL, "{report:?}");
    });
}

/// On this thread's runtime (current-thread), so that the thread's CPU time is the wait's.
#[tokio::test]
async fn waiting_for_a_command_a_tracer_holds_neither_spins_nor_hangs() {
    if !require_root() {
        return;
    }
    // Without an init: with one, `wait` ends at the init's report of the program's end.
    let no_init = sandbox(|b| {
        b.init(false);
    });
    let mut child = no_init.spawn_async(&traced::until_a_line()).await.unwrap();
    let mut tracer = traced::trace(child.id());
    let (started, cpu) = (Instant::now(), traced::thread_cpu());
    child.stdin.take().unwrap().write_all(b"go\n").await.unwrap();
    let waited = tokio::time::timeout(traced::HELD * 8, child.wait()).await;
    let (took, spent) = (started.elapsed(), traced::thread_cpu() - cpu);
    tracer.wait().unwrap();
    let report = waited.expect("the wait hung after the tracer let go").unwrap();
    assert!(report.success(), "{report}");
    traced::assert_waited_without_spinning(took, spent);
}
