//! Criterion benches: spawn → exec → wait of a tiny static program, by what varies.
//! `cargo bench --bench spawn`. Group names say what varies; see BENCHMARKS.md for a run.
// criterion_group! makes a public function without a doc comment.
#![allow(missing_docs)]

mod support;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use isobox::{Command, Sandbox, Stdio};

fn std_status(program: &Path) {
    let status = std::process::Command::new(program).stdout(std::process::Stdio::null()).status().unwrap();
    assert!(status.success());
}

/// std::process::Command forced onto its fork path: setting the uid (to our own) rules out
/// posix_spawn, so the child copies the parent's page tables like any fork.
fn std_fork_status(program: &Path) {
    let uid = nix::unistd::getuid().as_raw();
    let status = std::process::Command::new(program).uid(uid).stdout(std::process::Stdio::null()).status().unwrap();
    assert!(status.success());
}

fn isobox_status(sandbox: &Sandbox, cmd: &Command) {
    assert!(sandbox.status(cmd).unwrap().success());
}

fn quiet(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.stdout(Stdio::null());
    cmd
}

fn spawn_wait(c: &mut Criterion) {
    let fixture = support::Fixture::new();
    let mut group = c.benchmark_group("spawn_wait");
    let tiny = fixture.tiny();
    group.bench_function("std::process::Command", |b| b.iter(|| std_status(&tiny)));
    for (name, sandbox, program) in support::variants(&fixture) {
        let cmd = quiet(&program);
        group.bench_function(name, |b| b.iter(|| isobox_status(&sandbox, &cmd)));
    }
    group.finish();
    support::cleanup_cgroup_parent();
}

/// The full sandbox from a prewarmed pool (refilled in the background), beside std and the
/// same sandbox spawned cold.
fn pooled(c: &mut Criterion) {
    let fixture = support::Fixture::new();
    let mut group = c.benchmark_group("pooled_spawn_wait");
    let tiny = fixture.tiny();
    group.bench_function("std::process::Command", |b| b.iter(|| std_status(&tiny)));
    let cold = support::variants(&fixture).into_iter().find(|(name, _, _)| name.starts_with("+hostname"));
    let (_, cold, program) = cold.expect("the full sandbox variant");
    let cmd = quiet(&program);
    group.bench_function("full sandbox, cold", |b| b.iter(|| isobox_status(&cold, &cmd)));
    // Criterion's spawns come back to back: the pool refills as they run (no burst variant).
    for (name, pool) in support::pooled_variants(&fixture, 8).into_iter().filter(|(n, _)| !n.ends_with("burst")) {
        group.bench_function(name, |b| b.iter(|| assert!(pool.status(&cmd).unwrap().success())));
    }
    group.finish();
}

/// Times `iters` spawns until the program's first byte arrives; waiting for exit is not timed.
fn time_to_first_byte<R: Read, W: FnOnce()>(iters: u64, mut spawn: impl FnMut() -> (R, W)) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let start = Instant::now();
        let (mut out, wait) = spawn();
        let mut byte = [0u8; 1];
        out.read_exact(&mut byte).unwrap();
        total += start.elapsed();
        wait();
    }
    total
}

/// Time until the program runs: it writes a byte, and the clock stops when the byte arrives.
fn spawn_running(c: &mut Criterion) {
    let fixture = support::Fixture::new();
    let mut group = c.benchmark_group("spawn_running");
    let tiny = fixture.tiny();
    group.bench_function("std::process::Command", |b| {
        b.iter_custom(|iters| {
            time_to_first_byte(iters, || {
                let mut child = std::process::Command::new(&tiny).stdout(std::process::Stdio::piped()).spawn().unwrap();
                let out = child.stdout.take().unwrap();
                (out, move || assert!(child.wait().unwrap().success()))
            })
        })
    });
    let variants = support::variants(&fixture);
    let (name, sandbox, program) = variants.iter().find(|(n, _, _)| n.starts_with("+hostname")).unwrap();
    let mut cmd = Command::new(program);
    cmd.stdout(Stdio::piped());
    group.bench_function(*name, |b| {
        b.iter_custom(|iters| {
            time_to_first_byte(iters, || {
                let mut child = sandbox.spawn(&cmd).unwrap();
                let out = child.stdout.take().unwrap();
                (out, move || assert!(child.wait().unwrap().success()))
            })
        })
    });
    group.finish();
}

/// The same spawns from a small parent and from one with 1 GiB of touched memory.
fn parent_size(c: &mut Criterion) {
    let fixture = support::Fixture::new();
    let variants = support::variants(&fixture);
    let (_, sandbox, program) = variants.iter().find(|(n, _, _)| n.starts_with("+hostname")).unwrap();
    let cmd = quiet(program);
    let tiny = fixture.tiny();
    let mut group = c.benchmark_group("parent_size");
    let mut ballast: Vec<u8> = Vec::new();
    for size in ["small", "1GiB"] {
        if size == "1GiB" {
            ballast = vec![1u8; 1 << 30]; // every page touched: the page tables are real
        }
        group.bench_with_input(BenchmarkId::new("isobox full", size), &size, |b, _| {
            b.iter(|| isobox_status(sandbox, &cmd))
        });
        group.bench_with_input(BenchmarkId::new("std fork-style", size), &size, |b, _| {
            b.iter(|| std_fork_status(&tiny))
        });
        group.bench_with_input(BenchmarkId::new("std posix_spawn", size), &size, |b, _| b.iter(|| std_status(&tiny)));
    }
    assert_eq!(ballast.iter().step_by(4096).map(|b| *b as usize).sum::<usize>(), (1 << 30) / 4096);
    group.finish();
}

/// Two threads spawning at once from one shared sandbox: throughput in spawns per second.
fn parallel(c: &mut Criterion) {
    let fixture = support::Fixture::new();
    let variants = support::variants(&fixture);
    let (_, sandbox, program) = variants.iter().find(|(n, _, _)| n.starts_with("+hostname")).unwrap();
    let cmd = quiet(program);
    let mut group = c.benchmark_group("parallel");
    for threads in [1usize, 2] {
        group.throughput(Throughput::Elements(threads as u64));
        group.bench_with_input(BenchmarkId::new("full sandbox, threads", threads), &threads, |b, &threads| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..threads {
                        s.spawn(|| (0..iters).for_each(|_| isobox_status(sandbox, &cmd)));
                    }
                });
                start.elapsed()
            })
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! { name = benches; config = config(); targets = spawn_wait, pooled, spawn_running, parent_size, parallel }
criterion_main!(benches);
