//! Spawn latency percentiles (p50, p90, p99) for each sandbox variant against
//! `std::process::Command`, one spawn → exec → wait at a time. `cargo bench --bench latency`.
//! The variants take turns (one spawn of each per round, in a shuffled order), so a slow
//! moment of the machine weighs on all of them alike; `ISOBOX_LATENCY_ORDER=back-to-back` runs
//! each variant's spawns in a row instead, as criterion does. Prints a Markdown table;
//! BENCHMARKS.md keeps the ones from the last runs on the reference machine.
mod support;

use std::process::Stdio as StdStdio;
use std::time::{Duration, Instant};

use isobox::{Command, Stdio};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// xorshift64: a fixed, dependency-free sequence for shuffling the order of each round.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// 0..len in a new random order (Fisher-Yates).
fn shuffled(len: usize, state: &mut u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    for i in (1..len).rev() {
        order.swap(i, (next_random(state) % (i as u64 + 1)) as usize);
    }
    order
}

/// One variant: what is timed, and what runs untimed before it (a pool's top-up).
struct Run<'a> {
    before: Option<Box<dyn FnMut() + 'a>>,
    timed: Box<dyn FnMut() + 'a>,
    /// A pause after the timed part (`ISOBOX_LATENCY_GAP_US`): spawns at a rate, not flat out.
    gap: Duration,
}

impl<'a> Run<'a> {
    fn timed(f: impl FnMut() + 'a) -> Run<'a> {
        Run { before: None, timed: Box::new(f), gap: gap() }
    }

    fn once(&mut self) -> Duration {
        if let Some(before) = &mut self.before {
            before();
        }
        let start = Instant::now();
        (self.timed)();
        let took = start.elapsed();
        if !self.gap.is_zero() {
            std::thread::sleep(self.gap);
        }
        took
    }
}

/// `ISOBOX_LATENCY_GAP_US`: microseconds to pause after each spawn, untimed (default none):
/// a service spawning at a rate, where a pool refills between spawns, rather than flat out,
/// where its refills and teardowns overlap the next spawns of every variant.
fn gap() -> Duration {
    Duration::from_micros(std::env::var("ISOBOX_LATENCY_GAP_US").ok().and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// Times `n` rounds; in each round every closure runs once, in an order shuffled anew each
/// round: a spawn pays for some of the kernel's deferred tear-down of the one before it (a
/// network namespace's is the largest), and a fixed order would charge that to whichever
/// variant comes next. Returns sorted times.
fn measure_interleaved(n: usize, runs: &mut [Run<'_>]) -> Vec<Vec<Duration>> {
    for _ in 0..n / 10 {
        runs.iter_mut().for_each(|run| {
            run.once(); // warm-up
        });
    }
    let mut times = vec![Vec::with_capacity(n); runs.len()];
    let mut state = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..n {
        for i in shuffled(runs.len(), &mut state) {
            times[i].push(runs[i].once());
        }
    }
    times.iter_mut().for_each(|t| t.sort());
    times
}

/// Times `n` spawns of each closure in a row, as criterion does. Returns sorted times.
fn measure_back_to_back(n: usize, runs: &mut [Run<'_>]) -> Vec<Vec<Duration>> {
    let mut times = Vec::with_capacity(runs.len());
    for run in runs.iter_mut() {
        (0..n / 10).for_each(|_| {
            run.once(); // warm-up
        });
        let mut t: Vec<Duration> = (0..n).map(|_| run.once()).collect();
        t.sort();
        times.push(t);
    }
    times
}

/// `ISOBOX_LATENCY_ONLY`: `;`-separated prefixes of the variant names to keep (all if unset);
/// one ending in `$` is a whole name (`pooled: full$` is the default pool alone).
/// `benches/kernel_floor.py` uses it to run the variants its C program also runs.
fn wanted(name: &str) -> bool {
    let matches = |p: &str| p.strip_suffix('$').map_or_else(|| name.starts_with(p), |whole| name == whole);
    std::env::var("ISOBOX_LATENCY_ONLY").map_or(true, |only| only.split(';').any(matches))
}

fn us(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1e6)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // cargo test --benches asks for a listing
    }
    let n: usize = std::env::var("ISOBOX_LATENCY_SPAWNS").ok().and_then(|v| v.parse().ok()).unwrap_or(400);
    let fixture = support::Fixture::new();
    let tiny = fixture.tiny();
    // The network modes' variants, in a network namespace of the bench's own (its veths'
    // host side must not be the host's): this thread and the pools it starts.
    let private_net = support::net::enter_private_netns();
    let mut variants = support::variants(&fixture);
    variants.extend(support::net::variants(&fixture, private_net));
    variants.retain(|(name, _, _)| wanted(name));
    let commands: Vec<Command> = variants
        .iter()
        .map(|(_, _, program)| {
            let mut cmd = Command::new(program);
            cmd.stdout(Stdio::null());
            cmd
        })
        .collect();
    // The full sandbox from a pool (refilled in the background while the others run).
    let pools = support::pooled_variants(&fixture, 8);
    let pools: Vec<_> = pools.into_iter().filter(|(name, _)| wanted(name)).collect();
    let mut pooled_cmd = Command::new("/tiny");
    pooled_cmd.stdout(Stdio::null());
    let mut runs: Vec<Run<'_>> = vec![Run::timed(|| {
        let status = std::process::Command::new(&tiny).stdout(StdStdio::null()).status().unwrap();
        assert!(status.success());
    })];
    for ((_, sandbox, _), cmd) in variants.iter().zip(&commands) {
        runs.push(Run::timed(move || assert!(sandbox.status(cmd).unwrap().success())));
    }
    for (name, pool) in &pools {
        let cmd = &pooled_cmd;
        let timed = Box::new(move || assert!(pool.status(cmd).unwrap().success()));
        // A burst: the pool refilled before the spawn (untimed), nothing set up during it.
        let before: Option<Box<dyn FnMut()>> = name.ends_with("burst").then(|| {
            pool.set_auto_refill(false);
            Box::new(move || pool.fill().unwrap()) as Box<dyn FnMut()>
        });
        runs.push(Run { before, timed, gap: gap() });
    }
    let back_to_back = std::env::var("ISOBOX_LATENCY_ORDER").is_ok_and(|o| o == "back-to-back");
    let times = if back_to_back { measure_back_to_back(n, &mut runs) } else { measure_interleaved(n, &mut runs) };
    drop(runs);
    let base_p50 = percentile(&times[0], 0.5);
    let order = if back_to_back { "spawns of each variant back to back" } else { "rounds taking turns" };
    let paused = if gap().is_zero() { String::new() } else { format!(", {} µs between spawns", gap().as_micros()) };
    println!("{n} {order}{paused}; times in µs; ratio = p50 / p50 of std::process::Command\n");
    println!("| variant | p50 | p90 | p99 | ratio |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let names = std::iter::once("std::process::Command")
        .chain(variants.iter().map(|(name, _, _)| *name))
        .chain(pools.iter().map(|(name, _)| *name));
    for (name, t) in names.zip(&times) {
        let p50 = percentile(t, 0.5);
        let ratio = p50.as_secs_f64() / base_p50.as_secs_f64();
        println!("| {name} | {} | {} | {} | {ratio:.2} |", us(p50), us(percentile(t, 0.9)), us(percentile(t, 0.99)));
    }
    support::cleanup_cgroup_parent();
}
