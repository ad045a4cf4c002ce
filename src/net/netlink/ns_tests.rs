//! Root tests of the netlink operations, each on a thread of its own that first moves into
//! network namespaces it creates (`unshare(CLONE_NEWNET)`, checked against the host's), so
//! no request ever reaches the host's interfaces. The namespaces die with the thread.

use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use nix::errno::Errno;
use nix::sched::{setns, unshare, CloneFlags};

use super::addr::{self, RouteTo};
use super::error::NetOp;
use super::link;
use super::socket::Netlink;
use super::tc::{self, Tbf};

/// Whether the test may go on: root, else skipped with a printed reason (a failure under
/// `ISOBOX_REQUIRE_PRIVILEGES=1`).
fn require_root() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    let why = "needs root: creates network namespaces";
    assert!(std::env::var("ISOBOX_REQUIRE_PRIVILEGES").as_deref() != Ok("1"), "{why}");
    eprintln!("skipped: {why}");
    false
}

/// Whether this kernel has what the tests use (veth and ifb links, the tbf qdisc), tried in a
/// namespace of its own; else skipped with a printed reason (a kernel without the modules
/// loaded), which CI's VM, where `.ci/vm-network` loads them, turns into a failure.
fn require_link_kinds() -> bool {
    let missing = in_netns(|_| {
        let mut nl = Netlink::open().unwrap();
        let mut missing = Vec::new();
        if let Err(e) = link::create_veth(&mut nl, "inlprobe0", "inlprobe1", None) {
            assert_eq!(e.errno, Errno::EOPNOTSUPP, "{e}");
            missing.push("veth");
        }
        if let Err(e) = link::create_ifb(&mut nl, "inlprobe2") {
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

/// Moves the calling thread (a test's own, never the harness's) into a new network
/// namespace, asserts that it left the host's, and returns a descriptor of it.
fn new_netns(host: u64) -> OwnedFd {
    unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET)");
    assert_ne!(netns_inode(), host, "still in the host's network namespace");
    fs::File::open("/proc/thread-self/ns/net").unwrap().into()
}

/// Runs `f` on a new thread, in a new network namespace (given to `f`), and joins it.
fn in_netns<T: Send>(f: impl FnOnce(&OwnedFd) -> T + Send) -> T {
    let host = netns_inode();
    std::thread::scope(|s| s.spawn(|| f(&new_netns(host))).join().unwrap())
}

fn enter(ns: &OwnedFd) {
    setns(ns.as_fd(), CloneFlags::CLONE_NEWNET).unwrap();
}

/// Checks the classifier `redirect_ingress` used (`kinds`, one filter): matchall where the
/// kernel has the module loaded (by now, if it could load it on request) or where
/// `ISOBOX_REQUIRE_NET_KERNEL=1` says it must (CI's VM, which loads cls_matchall); else u32,
/// or matchall built into the kernel (no /sys/module entry then). One filter is dumped as
/// several messages of its kind (its classifier's head, then the filter; u32's hash table and
/// bucket too).
fn assert_classifier(kinds: &[String]) {
    let loaded = std::path::Path::new("/sys/module/cls_matchall").exists();
    assert!(loaded || !crate::net::test_kernel::required(), "no cls_matchall, though the run requires it");
    let all = |kind: &str| !kinds.is_empty() && kinds.iter().all(|k| k == kind);
    assert!(all("matchall") || (all("u32") && !loaded), "ingress filters {kinds:?}, cls_matchall loaded: {loaded}");
}

/// No link of this name on the host (read-only: sysfs of the host's namespace).
fn absent_on_host(name: &str) {
    assert!(!std::path::Path::new("/sys/class/net").join(name).exists(), "{name} exists on the host");
}

#[test]
fn veth_between_two_namespaces_carries_tcp_and_is_deleted() {
    if !require_root() || !require_link_kinds() {
        return;
    }
    let host = netns_inode();
    std::thread::scope(|s| s.spawn(move || veth_pair(host)).join().unwrap());
    absent_on_host("inlveth0");
    absent_on_host("inlpeer0");
}

fn veth_pair(host: u64) {
    let (a, b) = (new_netns(host), new_netns(host));
    let mut nl_b = Netlink::open().unwrap();
    enter(&a);
    let mut nl_a = Netlink::open().unwrap();
    link::create_veth(&mut nl_a, "inlveth0", "inlpeer0", None).unwrap();
    link::move_to_netns(&mut nl_a, "inlpeer0", b.as_fd()).unwrap();
    assert_eq!(link::index(&mut nl_a, "inlpeer0").unwrap_err().errno, Errno::ENODEV);
    assert!(link::index(&mut nl_b, "inlpeer0").unwrap() > 1);
    addr::add_ipv4(&mut nl_a, "inlveth0", Ipv4Addr::new(10, 213, 0, 1), 30).unwrap();
    addr::add_ipv4(&mut nl_b, "inlpeer0", Ipv4Addr::new(10, 213, 0, 2), 30).unwrap();
    link::set_up(&mut nl_a, "inlveth0", true).unwrap();
    link::set_up(&mut nl_b, "inlpeer0", true).unwrap();
    ip_shows("inlveth0", "inet 10.213.0.1/30");
    tcp_from_a_to_b(&a, &b);
    link::delete(&mut nl_a, "inlveth0").unwrap();
    assert_eq!(link::index(&mut nl_a, "inlveth0").unwrap_err().errno, Errno::ENODEV);
    assert_eq!(link::index(&mut nl_b, "inlpeer0").unwrap_err().errno, Errno::ENODEV);
}

/// `ip -o addr show dev <name>` in the thread's namespace (if `ip` is installed) shows `what`.
fn ip_shows(name: &str, what: &str) {
    let Ok(out) = std::process::Command::new("ip").args(["-o", "addr", "show", "dev", name]).output() else {
        eprintln!("ip not installed: address not checked with it");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains(what), "{text}{}", String::from_utf8_lossy(&out.stderr));
}

/// A listener in `b`, a connection from `a`, one byte each way.
fn tcp_from_a_to_b(a: &OwnedFd, b: &OwnedFd) {
    enter(b);
    let listener = TcpListener::bind("10.213.0.2:0").unwrap();
    let to: SocketAddr = listener.local_addr().unwrap();
    enter(a);
    let mut client = TcpStream::connect_timeout(&to, Duration::from_secs(2)).unwrap();
    let (mut server, from) = listener.accept().unwrap();
    assert_eq!(from.ip().to_string(), "10.213.0.1");
    client.write_all(b"x").unwrap();
    let mut byte = [0u8];
    server.read_exact(&mut byte).unwrap();
    server.write_all(b"y").unwrap();
    client.read_exact(&mut byte).unwrap();
    assert_eq!(&byte, b"y");
}

#[test]
fn loopback_comes_up_and_routes_are_added() {
    if !require_root() || !require_link_kinds() {
        return;
    }
    in_netns(|_| {
        let mut nl = Netlink::open().unwrap();
        assert_eq!(link::index(&mut nl, "lo").unwrap(), 1);
        link::set_up(&mut nl, "lo", true).unwrap();
        link::create_veth(&mut nl, "inlr0", "inlr1", None).unwrap();
        addr::add_ipv4(&mut nl, "inlr0", Ipv4Addr::new(10, 214, 0, 1), 24).unwrap();
        link::set_up(&mut nl, "inlr0", true).unwrap();
        addr::add_route(&mut nl, "inlr0", RouteTo::Prefix(Ipv4Addr::new(10, 215, 0, 0), 16)).unwrap();
        addr::add_route(&mut nl, "inlr0", RouteTo::DefaultVia(Ipv4Addr::new(10, 214, 0, 254))).unwrap();
        let dup = addr::add_route(&mut nl, "inlr0", RouteTo::DefaultVia(Ipv4Addr::new(10, 214, 0, 254)));
        assert_eq!(dup.unwrap_err().errno, Errno::EEXIST);
        if let Ok(out) = std::process::Command::new("ip").args(["-4", "route"]).output() {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("default via 10.214.0.254 dev inlr0"), "{text}");
            assert!(text.contains("10.215.0.0/16 dev inlr0 scope link"), "{text}");
        }
        link::set_up(&mut nl, "inlr0", false).unwrap();
    });
}

#[test]
fn refusals_are_typed() {
    if !require_root() || !require_link_kinds() {
        return;
    }
    in_netns(|_| {
        let mut nl = Netlink::open().unwrap();
        let missing = link::index(&mut nl, "inlnone0").unwrap_err();
        assert_eq!(
            (missing.op, missing.ifname.as_deref(), missing.errno),
            (NetOp::GetLink, Some("inlnone0"), Errno::ENODEV)
        );
        let down = link::set_up(&mut nl, "inlnone0", true).unwrap_err();
        assert_eq!((down.op, down.errno), (NetOp::SetLinkUp, Errno::ENODEV));
        link::create_veth(&mut nl, "inldup0", "inldup1", None).unwrap();
        let dup = link::create_veth(&mut nl, "inldup0", "inldup2", None).unwrap_err();
        assert_eq!((dup.op, dup.ifname.as_deref(), dup.errno), (NetOp::CreateVeth, Some("inldup0"), Errno::EEXIST));
        assert_eq!(dup.hint(), None);
        let prefix = addr::add_ipv4(&mut nl, "inldup0", Ipv4Addr::new(10, 216, 0, 1), 33).unwrap_err();
        assert_eq!((prefix.op, prefix.errno), (NetOp::AddAddress, Errno::EINVAL));
        let long = link::create_veth(&mut nl, "inl-name-too-long0", "inlx", None).unwrap_err();
        // IFNAMSIZ: the kernel's policy refuses it, and says so in an extended ack.
        assert_eq!(long.errno, Errno::ERANGE, "{long}");
        assert!(long.message.as_deref().is_some_and(|m| m.contains("policy")), "{long}");
        let nul = link::delete(&mut nl, "in\0l").unwrap_err();
        assert_eq!((nul.op, nul.errno), (NetOp::DeleteLink, Errno::EMSGSIZE));
        link::delete(&mut nl, "inldup0").unwrap();
        let gone = link::delete(&mut nl, "inldup1").unwrap_err();
        assert_eq!(gone.errno, Errno::ENODEV, "{gone}");
        eprintln!("examples: {missing} / {dup} / {prefix} / {long}");
    });
}

#[test]
fn a_rate_is_written_and_read_back_and_ingress_is_redirected() {
    if !require_root() || !require_link_kinds() {
        return;
    }
    in_netns(|_| {
        let mut nl = Netlink::open().unwrap();
        link::create_veth(&mut nl, "inltc0", "inltc1", None).unwrap();
        link::create_ifb(&mut nl, "inlifb0").unwrap();
        let rate = 2_000_000 / 8;
        tc::add_tbf(&mut nl, "inltc0", Tbf { rate, burst: 32 << 10, limit: 64 << 10 }).unwrap();
        let root = tc::root_qdisc(&mut nl, "inltc0").unwrap();
        assert_eq!((root.kind.as_str(), root.handle, root.tbf), ("tbf", 0x0001_0000, Some((rate, 64 << 10))));
        let big = 10_000_000_000 / 8;
        tc::add_tbf(&mut nl, "inlifb0", Tbf { rate: big, burst: 1 << 20, limit: 4 << 20 }).unwrap();
        assert_eq!(tc::root_qdisc(&mut nl, "inlifb0").unwrap().tbf, Some((big, 4 << 20)));
        let again = tc::add_tbf(&mut nl, "inltc0", Tbf { rate, burst: 1, limit: 1 }).unwrap_err();
        assert_eq!((again.op, again.errno), (NetOp::AddQdisc, Errno::EEXIST), "{again}");
        tc::add_ingress(&mut nl, "inltc0").unwrap();
        tc::redirect_ingress(&mut nl, "inltc0", "inlifb0").unwrap();
        assert_classifier(&tc::ingress_filter_kinds(&mut nl, "inltc0").unwrap());
        if let Ok(out) = std::process::Command::new("tc").args(["filter", "show", "dev", "inltc0", "ingress"]).output()
        {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("Redirect to device inlifb0"), "{text}");
        }
        let none = tc::root_qdisc(&mut nl, "inltc1").unwrap_err();
        assert_eq!((none.op, none.errno), (NetOp::GetQdisc, Errno::ENOENT), "{none}");
        let zero = tc::add_tbf(&mut nl, "inltc1", Tbf { rate: 0, burst: 1, limit: 1 }).unwrap_err();
        assert_eq!(zero.errno, Errno::EINVAL);
    });
}
