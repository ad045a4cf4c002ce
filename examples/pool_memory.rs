//! What idle pooled sandboxes cost in memory: the drop in MemAvailable with 100 of them
//! waiting, and the resident memory of their processes (isobox's init and waiter).
//! `cargo run --release --example pool_memory` (BENCHMARKS.md).
use isobox::{Namespaces, Sandbox};
fn avail() -> i64 {
    let m = std::fs::read_to_string("/proc/meminfo").unwrap();
    m.lines().find(|l| l.starts_with("MemAvailable:")).unwrap().split_whitespace().nth(1).unwrap().parse().unwrap()
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
    println!(
        "100 idle pooled sandboxes: MemAvailable -{} KiB ({} KiB each); RSS of their processes {} KiB ({} each)",
        before - after,
        (before - after) / 100,
        rss,
        rss / 100
    );
    drop(pool);
}
