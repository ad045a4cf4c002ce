//! Spawning from many threads at once while other threads allocate, free and start threads:
//! the CLONE_VM child shares the parent's memory until exec, so this must neither crash,
//! corrupt, nor hang.
mod common;

use std::hint::black_box;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{require_userns, sandbox};
use isobox::{Child, Command, Mount, Namespaces, Resource, Sandbox, Stdio};

/// How long one sandbox may take before it counts as a hang.
const WAIT: Duration = Duration::from_secs(60);
/// How long a whole test may take before the watchdog declares a hang in spawn itself.
const WATCHDOG: Duration = Duration::from_secs(800);

fn spawns_per_thread(default: usize) -> usize {
    match std::env::var("ISOBOX_STRESS_SPAWNS") {
        Ok(n) => n.parse().expect("ISOBOX_STRESS_SPAWNS must be a number"),
        Err(_) => default,
    }
}

/// Allocates and frees buffers of varied sizes (small ones from the heap, large ones mapped
/// and unmapped) and starts short-lived threads until `stop`. Returns the rounds done.
fn churn(stop: &AtomicBool, seed: u64) -> u64 {
    let mut x = seed | 1;
    let mut kept: Vec<Vec<u8>> = Vec::new();
    let mut rounds = 0u64;
    while !stop.load(Ordering::Relaxed) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let size = if x % 4 == 0 { (x % (4 << 20)) as usize } else { (x % 4096) as usize };
        let mut buf = vec![x as u8; size + 1];
        buf[size / 2] = buf[0].wrapping_add(1);
        kept.push(black_box(buf));
        if kept.len() > 32 {
            kept.swap_remove((x % 32) as usize);
        }
        if rounds % 64 == 0 {
            let t = std::thread::spawn(move || black_box(vec![7u8; 64 << 10]).len());
            assert_eq!(t.join().expect("short-lived thread"), 64 << 10);
        }
        rounds += 1;
    }
    rounds
}

/// Waits for `child` for at most [`WAIT`]; a timeout is a hang (the child is killed on drop).
fn finish(mut child: Child, what: &str) -> Result<isobox::ExitReport, String> {
    match child.wait_timeout(WAIT) {
        Ok(Some(report)) => Ok(report),
        Ok(None) => Err(format!("{what}: still running after {WAIT:?} (hang)")),
        Err(e) => Err(format!("{what}: wait failed: {e}")),
    }
}

/// Aborts the test binary if `done` is not signalled in time: a hang inside spawn itself
/// cannot be timed out any other way.
fn watchdog(test: &'static str) -> mpsc::Sender<()> {
    let (done, rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(WATCHDOG) {
            eprintln!("{test}: not finished after {WATCHDOG:?}: a spawn hangs");
            std::process::abort();
        }
    });
    done
}

/// Runs `spawners` threads of `job` next to two churning threads, and returns each spawner's
/// result once all are done.
fn stress<F>(spawners: usize, job: F) -> Vec<Result<usize, String>>
where
    F: Fn(usize) -> Result<usize, String> + Sync,
{
    let stop = AtomicBool::new(false);
    let (results, rounds) = std::thread::scope(|s| {
        let churners: Vec<_> = (1..=2u64)
            .map(|i| {
                let stop = &stop;
                s.spawn(move || churn(stop, i.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            })
            .collect();
        let job = &job;
        let handles: Vec<_> = (0..spawners).map(|t| s.spawn(move || job(t))).collect();
        let results: Vec<_> = handles.into_iter().map(join_result).collect();
        stop.store(true, Ordering::Relaxed);
        let rounds: Vec<_> = churners.into_iter().map(|h| h.join()).collect();
        (results, rounds)
    });
    for r in rounds {
        assert!(r.expect("churning thread panicked") > 0, "the churner never ran");
    }
    results
}

fn join_result(h: std::thread::ScopedJoinHandle<'_, Result<usize, String>>) -> Result<usize, String> {
    h.join().unwrap_or_else(|_| Err("spawning thread panicked".into()))
}

fn check(test: &str, results: Vec<Result<usize, String>>, expected: usize, started: Instant) {
    let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(errors.is_empty(), "{test}: {} threads failed: {errors:#?}", errors.len());
    let total: usize = results.iter().flatten().sum();
    assert_eq!(total, expected, "{test}: successful spawns");
    let secs = started.elapsed().as_secs_f64();
    println!("{test}: {total} spawns in {secs:.2} s ({:.1}/s)", total as f64 / secs);
}

fn spawn_true_n_times(sandbox: &Sandbox, n: usize, thread: usize) -> Result<usize, String> {
    let cmd = Command::new("/bin/true");
    for i in 0..n {
        let what = format!("thread {thread} spawn {i}");
        let child = sandbox.spawn(&cmd).map_err(|e| format!("{what}: {e}"))?;
        let report = finish(child, &what)?;
        if !report.success() {
            return Err(format!("{what}: {report:?}"));
        }
    }
    Ok(n)
}

#[test]
fn rootless_spawning_from_many_threads_while_others_allocate() {
    if !require_userns() {
        return;
    }
    let test = "many threads";
    let (threads, n) = (8, spawns_per_thread(40));
    let sb = sandbox(|b| {
        b.hostname("t");
    });
    let done = watchdog(test);
    let started = Instant::now();
    let results = stress(threads, |t| spawn_true_n_times(&sb, n, t));
    let _ = done.send(());
    check(test, results, threads * n, started);
}

fn featureful(hostname: &str) -> Sandbox {
    sandbox(|b| {
        b.namespaces(common::full() | Namespaces::NET)
            .hostname(hostname)
            .mount(Mount::tmpfs("/scratch").size(1 << 20))
            .rlimit(Resource::NoFile, 64, 64)
            .rlimit(Resource::Core, 0, 0);
    })
}

const SCRIPT: &str = "hostname; echo ok > /scratch/f && cat /scratch/f; ulimit -n; \
                      tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '";

/// Runs [`SCRIPT`] and checks its output: the hostname, a writable tmpfs, the limit, and a
/// network namespace holding only loopback.
fn run_script(sandbox: &Sandbox, hostname: &str, what: &str) -> Result<(), String> {
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", SCRIPT]).stdout(Stdio::piped());
    let mut child = sandbox.spawn(&cmd).map_err(|e| format!("{what}: {e}"))?;
    let mut out = String::new();
    let mut stdout = child.stdout.take().expect("piped stdout");
    stdout.read_to_string(&mut out).map_err(|e| format!("{what}: reading: {e}"))?;
    let report = finish(child, what)?;
    let expected = format!("{hostname}\nok\n64\nlo\n");
    match report.success() && out == expected {
        true => Ok(()),
        false => Err(format!("{what}: {report:?}, output {out:?}, expected {expected:?}")),
    }
}

#[test]
fn rootless_spawning_with_all_features_from_threads() {
    if !require_userns() {
        return;
    }
    let test = "all features";
    let (threads, n) = (4, spawns_per_thread(40) / 4);
    let names = ["alpha", "beta"];
    let sandboxes = names.map(featureful);
    let done = watchdog(test);
    let started = Instant::now();
    let results = stress(threads, |t| {
        for i in 0..n {
            let which = (t + i) % 2;
            let what = format!("thread {t} spawn {i}");
            run_script(&sandboxes[which], names[which], &what)?;
        }
        Ok(n)
    });
    let _ = done.send(());
    check(test, results, threads * n, started);
}
