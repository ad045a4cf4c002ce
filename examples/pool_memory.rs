//! What idle pooled sandboxes cost in memory: the drop in MemAvailable with 100 of them
//! waiting (noisy while anything else runs), the kernel's own part of it (kernel stacks, page
//! tables, unreclaimable slab), and the resident memory of their processes (isobox's init and
//! waiters).
//! `cargo run --release --example pool_memory` (BENCHMARKS.md).
use isobox::{Namespaces, Sandbox};
/// `field` of /proc/meminfo, in KiB.
fn meminfo(field: &str) -> i64 {
    let m = std::fs::read_to_string("/proc/meminfo").unwrap();
    let line = m.lines().find(|l| l.split(':').next() == Some(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// MemAvailable, and the kernel's memory that idle processes and namespaces hold.
fn avail() -> (i64, i64) {
    let kernel = ["KernelStack", "PageTables", "SUnreclaim"].iter().map(|f| meminfo(f)).sum();
    (meminfo("MemAvailable"), kernel)
}
fn main() {
    let sb = Sandbox::builder()
        .namespaces(Namespaces::USER | Namespaces::PID | Namespaces::MOUNT | Namespaces::UTS | Namespaces::IPC)
        .build()
        .unwrap();
    let warm = sb.pool(1).unwrap();
    drop(warm);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let before = avail();
    let pool = sb.pool(100).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let after = avail();
    let rss: u64 = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path().join("status")).ok())
        .filter(|s| s.contains("Name:\tisobox-init") || s.contains("Name:\tisobox-wait"))
        .filter_map(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .sum();
    let (available, kernel) = (before.0 - after.0, after.1 - before.1);
    println!(
        "100 idle pooled sandboxes: MemAvailable {} KiB less ({} KiB each); kernel stacks, page tables and \
         unreclaimable slab {kernel} KiB more ({} each); RSS of their processes {rss} KiB ({} each)",
        available,
        available / 100,
        kernel / 100,
        rss / 100
    );
    drop(pool);
}
