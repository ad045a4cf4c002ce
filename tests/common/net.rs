//! Helpers of the network tests (`network_*.rs`): the calling thread's network namespace and
//! links, a thread of its own in a new namespace (the "host side" of a veth), and a TCP sink
//! that measures a rate there.
#![allow(dead_code)]

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use nix::sched::{unshare, CloneFlags};

/// The network namespace inode of the calling thread.
pub fn thread_netns() -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/thread-self/ns/net").unwrap().ino()
}

/// The links of the calling thread's namespace (`/proc/thread-self/net/dev`).
pub fn links_here() -> Vec<String> {
    let dev = std::fs::read_to_string("/proc/thread-self/net/dev").unwrap();
    dev.lines().skip(2).filter_map(|l| l.split(':').next()).map(|n| n.trim().to_string()).collect()
}

/// The `ibx*` links (host ends and their ifbs) left after waiting up to `within` for none.
pub fn ibx_left_after(within: Duration) -> Vec<String> {
    let ibx = || links_here().into_iter().filter(|l| l.starts_with("ibx")).collect::<Vec<_>>();
    let deadline = Instant::now() + within;
    while !ibx().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    ibx()
}

/// Runs `f` on a thread of its own in a new network namespace (checked to be new).
pub fn in_new_netns<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let host = thread_netns();
    std::thread::scope(|s| {
        s.spawn(|| {
            unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET)");
            assert_ne!(thread_netns(), host, "still in the host's network namespace");
            f()
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// Bits per second of `bytes` over `took`.
pub fn rate_of(bytes: u64, took: Duration) -> f64 {
    bytes as f64 * 8.0 / took.as_secs_f64()
}

/// Accepts one connection on `sink` and reads it to its end: the rate in bits/s from the
/// first read 0.5 s after the accept (the warm-up: the bucket starts full) to the last byte.
/// That first read's bytes are not counted: they came in before it (a lot, if this thread
/// was kept off the CPU by a loaded machine).
pub fn sink_rate(sink: &TcpListener) -> f64 {
    let (mut from, _) = sink.accept().unwrap();
    let (mut got, mut buf, started) = (0u64, vec![0u8; 65536], Instant::now());
    let mut measured_from = None;
    loop {
        let n = from.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        if measured_from.is_some() {
            got += n as u64;
        } else if started.elapsed() >= Duration::from_millis(500) {
            measured_from = Some(Instant::now());
        }
    }
    rate_of(got, measured_from.expect("the sender sent for longer than the warm-up").elapsed())
}
