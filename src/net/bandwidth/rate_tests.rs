//! Root tests of the bandwidth limits, each in network namespaces it creates on threads of its
//! own (`ns_tests.rs`'s way): A plays the host, B the sandbox, a veth between them
//! (10.218.n.1/30 in A, .2 in B). A TCP source in one and a sink in the other (std threads,
//! each `setns`'d into its namespace); the sink measures bytes received over elapsed time after
//! a warm-up. Namespaces, and the links in them, die with the threads.

use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sched::{setns, unshare, CloneFlags};

use super::apply::{apply, remove, Applied};
use super::plan::compile;
use super::spec::Bandwidth;
use super::stats::stats;
use crate::net::netlink::addr;
use crate::net::netlink::link;
use crate::net::netlink::socket::Netlink;
use crate::net::netlink::tc::{self, Tbf};

pub(super) fn require_root() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    let why = "needs root: creates network namespaces";
    assert!(std::env::var("ISOBOX_REQUIRE_PRIVILEGES").as_deref() != Ok("1"), "{why}");
    eprintln!("skipped: {why}");
    false
}

/// Whether the kernel has veth, ifb and tbf (probed in a namespace of its own); else a
/// printed skip, not a privilege (a kernel without the modules loaded; CI's VM, which loads
/// them, fails it instead).
pub(super) fn require_kinds() -> bool {
    let missing = in_pair_thread(|_| {
        let mut nl = Netlink::open().unwrap();
        let mut missing = Vec::new();
        if let Err(e) = link::create_veth(&mut nl, "bwprobe0", "bwprobe1", None) {
            assert_eq!(e.errno, Errno::EOPNOTSUPP, "{e}");
            missing.push("veth");
        }
        if let Err(e) = link::create_ifb(&mut nl, "bwprobe2") {
            assert_eq!(e.errno, Errno::EOPNOTSUPP, "{e}");
            missing.push("ifb");
        }
        if let Err(e) = tc::add_tbf(&mut nl, "lo", Tbf { rate: 1 << 20, burst: 32 << 10, limit: 64 << 10 }) {
            assert_eq!(e.errno, Errno::ENOENT, "{e}");
            missing.push("tbf");
        }
        missing
    });
    if !missing.is_empty() {
        crate::net::test_kernel::lacks(&format!("this kernel lacks {} (modules not loaded)", missing.join(", ")));
    }
    missing.is_empty()
}

fn netns_inode() -> u64 {
    fs::metadata("/proc/thread-self/ns/net").unwrap().ino()
}

fn new_netns(host: u64) -> OwnedFd {
    unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET)");
    assert_ne!(netns_inode(), host, "still in the host's network namespace");
    fs::File::open("/proc/thread-self/ns/net").unwrap().into()
}

fn enter(ns: &OwnedFd) {
    setns(ns.as_fd(), CloneFlags::CLONE_NEWNET).unwrap();
}

/// Runs `f` on a new thread in a new network namespace, and joins it.
fn in_pair_thread<T: Send>(f: impl FnOnce(&OwnedFd) -> T + Send) -> T {
    let host = netns_inode();
    thread::scope(|s| s.spawn(|| f(&new_netns(host))).join().unwrap())
}

/// Makes BBR the default congestion control of the thread's namespace (one of the test's
/// own: `new_netns` checked), where the kernel has it. A loss-based sender through a
/// drop-tail queue saws: lost retransmissions stall it and out-of-order data held through a
/// recovery arrives at once, so a 2 s sample of CUBIC swings by ±10% by itself. The shaper's
/// rate is what is tested; CUBIC measured 0.90–1.08 of it here.
fn paced_tcp() {
    if let Err(e) = fs::write("/proc/sys/net/ipv4/tcp_congestion_control", "bbr") {
        eprintln!("no bbr ({e}): the test's TCP keeps the default congestion control");
    }
}

/// Two namespaces with a veth between them; the creating thread is left in `a`.
pub(super) struct Pair {
    pub(super) a: OwnedFd,
    pub(super) b: OwnedFd,
    pub(super) host_if: String,
    pub(super) ifb: String,
    pub(super) ip_a: Ipv4Addr,
    pub(super) ip_b: Ipv4Addr,
}

static PAIRS: AtomicU32 = AtomicU32::new(0);

impl Pair {
    fn new(host: u64) -> Pair {
        let n = PAIRS.fetch_add(1, Ordering::Relaxed);
        let name = format!("bw{}_{n}", std::process::id());
        let (host_if, peer, ifb) = (format!("{name}h"), format!("{name}s"), format!("{name}i"));
        let (ip_a, ip_b) = (Ipv4Addr::new(10, 218, n as u8, 1), Ipv4Addr::new(10, 218, n as u8, 2));
        let a = new_netns(host);
        paced_tcp();
        let b = new_netns(host);
        paced_tcp();
        let mut nl_b = Netlink::open().unwrap();
        enter(&a);
        let mut nl_a = Netlink::open().unwrap();
        link::create_veth(&mut nl_a, &host_if, &peer, Some(b.as_fd())).unwrap();
        addr::add_ipv4(&mut nl_a, &host_if, ip_a, 30).unwrap();
        addr::add_ipv4(&mut nl_b, &peer, ip_b, 30).unwrap();
        link::set_up(&mut nl_a, &host_if, true).unwrap();
        link::set_up(&mut nl_b, &peer, true).unwrap();
        Pair { a, b, host_if, ifb, ip_a, ip_b }
    }
}

/// Runs `f` on a thread of its own in a fresh pair's namespace A, with a socket there.
pub(super) fn with_pair<T: Send>(f: impl FnOnce(&mut Netlink, &Pair) -> T + Send) -> T {
    let host = netns_inode();
    thread::scope(|s| {
        s.spawn(|| {
            let pair = Pair::new(host);
            f(&mut Netlink::open().unwrap(), &pair)
        })
        .join()
        .unwrap()
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    /// A sends, B (the sandbox) receives: the veth's tbf.
    ToSandbox,
    /// B sends, A receives: the ifb's tbf.
    FromSandbox,
}

/// TCP payload bits per second at the sink, over `window` after `warm_up`.
fn measure(p: &Pair, dir: Dir, warm_up: Duration, window: Duration) -> f64 {
    let (sink_ns, source_ns, sink_ip) = match dir {
        Dir::ToSandbox => (&p.b, &p.a, p.ip_b),
        Dir::FromSandbox => (&p.a, &p.b, p.ip_a),
    };
    thread::scope(|s| {
        let (tx, rx) = mpsc::channel();
        let sink = s.spawn(move || {
            enter(sink_ns);
            let listener = TcpListener::bind((sink_ip, 0)).unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            sink_rate(listener.accept().unwrap().0, warm_up, window)
        });
        let to = rx.recv().unwrap();
        s.spawn(move || {
            enter(source_ns);
            source(to);
        });
        sink.join().unwrap()
    })
}

/// Writes until the sink goes away.
fn source(to: SocketAddr) {
    let mut conn = TcpStream::connect_timeout(&to, Duration::from_secs(5)).unwrap();
    conn.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    let chunk = vec![0x5a; 64 << 10];
    while conn.write_all(&chunk).is_ok() {}
}

fn sink_rate(mut conn: TcpStream, warm_up: Duration, window: Duration) -> f64 {
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = vec![0; 64 << 10];
    let (start, mut total, mut mark) = (Instant::now(), 0u64, None);
    loop {
        let n = conn.read(&mut buf).unwrap();
        assert!(n > 0, "the source stopped");
        total += n as u64;
        let now = Instant::now();
        match mark {
            None if now - start >= warm_up => mark = Some((now, total)),
            Some((t0, bytes0)) if now - t0 >= window => {
                return (total - bytes0) as f64 * 8.0 / (now - t0).as_secs_f64()
            }
            _ => {}
        }
    }
}

/// Shapes `dir` at `bps`, measures it (retried once if outside ±10%: CI loads the machine),
/// checks the counters, removes the limit and checks the ifb is gone. Returns the rate.
fn limited(bps: u64, dir: Dir) -> f64 {
    let bw = match dir {
        Dir::ToSandbox => Bandwidth::new().ingress(bps),
        Dir::FromSandbox => Bandwidth::new().egress(bps),
    };
    with_pair(|nl, p| {
        let applied = apply(nl, &p.host_if, &p.ifb, &compile(&bw).unwrap()).unwrap();
        let within = |r: f64| (r / bps as f64 - 1.0).abs() <= 0.10;
        let mut rate = measure(p, dir, Duration::from_millis(1000), Duration::from_millis(2000));
        if !within(rate) {
            eprintln!("{dir:?} at {bps} bit/s: measured {rate:.0}, retrying once");
            rate = measure(p, dir, Duration::from_millis(1000), Duration::from_millis(2000));
        }
        assert!(within(rate), "{dir:?} at {bps} bit/s: measured {rate:.0} bit/s, outside ±10%");
        check_counters(nl, &applied, dir, rate);
        remove(nl, &applied).unwrap();
        assert_eq!(link::index(nl, &p.ifb).map_err(|e| e.errno), Err(Errno::ENODEV), "ifb left behind");
        rate
    })
}

/// The shaped direction's tbf let through at least what was measured, and held packets back.
fn check_counters(nl: &mut Netlink, applied: &Applied, dir: Dir, rate: f64) {
    let s = stats(nl, applied).unwrap();
    let (shaped, other) = match dir {
        Dir::ToSandbox => (s.ingress, s.egress),
        Dir::FromSandbox => (s.egress, s.ingress),
    };
    let tbf = shaped.expect("the shaped direction has counters");
    assert_eq!(other, None);
    assert!(tbf.bytes as f64 > rate * 2.0 / 8.0 && tbf.packets > 100, "{tbf:?}");
    assert!(tbf.overlimits > 0, "the tbf never held a packet back: {tbf:?}");
    assert_eq!(applied.ifb.is_some(), dir == Dir::FromSandbox);
}

#[test]
fn rates_hold_within_ten_percent_both_ways_and_unlimited_is_fast() {
    if !require_root() || !require_kinds() {
        return;
    }
    let cases = [
        (2_000_000, Dir::ToSandbox),
        (2_000_000, Dir::FromSandbox),
        (10_000_000, Dir::ToSandbox),
        (10_000_000, Dir::FromSandbox),
    ];
    let rates: Vec<f64> = thread::scope(|s| {
        let runs: Vec<_> = cases.iter().map(|&(bps, dir)| s.spawn(move || limited(bps, dir))).collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    eprintln!(
        "measured: {:?}",
        cases.iter().zip(&rates).map(|((b, d), r)| format!("{d:?} {b}: {r:.0}")).collect::<Vec<_>>()
    );
    // After the limited runs, not beside them: an unshaped flow takes both CPUs.
    for dir in [Dir::ToSandbox, Dir::FromSandbox] {
        let rate = with_pair(|_, p| measure(p, dir, Duration::from_millis(100), Duration::from_millis(300)));
        assert!(rate > 100_000_000.0, "{dir:?} unlimited: only {rate:.0} bit/s");
    }
}
