//! `Veth::bridge`: veth sandboxes on a bridge of isobox's (root). Every test runs its spawns on
//! a thread moved into a network namespace of its own (the "host side"), with 10.234.x
//! addresses only; everything left there dies with the thread. A kernel without veth or
//! bridge is a printed skip. (NAT on a bridge: `tests/network_nat.rs`.)
mod common;
#[path = "common/net.rs"]
mod net;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::process::{Command as Std, Stdio as StdStdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::{cmd, require_root, sandbox};
use isobox::{Bridge, Error, NetOp, Network, NetworkError, PortForward, Sandbox, Stdio, Veth};
use net::{in_new_netns, links_here};
use nix::errno::Errno;

/// A bridge name unique to this process and call.
fn bridge_name() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("ibt{}x{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

fn addr(third: u8, last: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 234, third, last)
}

fn on_bridge(bridge: &str, third: u8, last: u8) -> Veth {
    Veth::new(addr(third, last), addr(third, 1), 24).bridge(Bridge::new(bridge))
}

fn veth_sandbox(v: Veth) -> Sandbox {
    sandbox(|b| {
        b.network(Network::Veth(v));
    })
}

/// The ports of `bridge` that are up, i.e. of live sandboxes (`ip link show master … up`, run in this thread's namespace).
fn ports(bridge: &str) -> Vec<String> {
    let out = Std::new("ip").args(["-o", "link", "show", "master", bridge, "up"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().filter_map(|l| l.split(": ").nth(1)).map(|n| n.split('@').next().unwrap().to_owned()).collect()
}

/// Waits up to 3 s for `cond`.
fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(3);
    while !cond() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

fn assert_gone(bridge: &str) {
    assert!(eventually(|| !links_here().iter().any(|l| l == bridge)), "{bridge} left: {:?}", links_here());
    assert!(eventually(|| !links_here().iter().any(|l| l.starts_with("ibx"))), "ports left: {:?}", links_here());
}

/// Whether this kernel makes veths and bridges (probed in a namespace of its own, so that the
/// caller's first spawn in its own still sweeps); else a printed skip.
fn require_bridge() -> bool {
    if !require_root() {
        return false;
    }
    let found = Std::new("ip").arg("-V").output().is_ok();
    if !common::require(found, "no ip binary (.ci/setup-host installs iproute2)") {
        return false;
    }
    in_new_netns(|| match veth_sandbox(on_bridge(&bridge_name(), 250, 2)).status(&cmd("/bin/true", &[])) {
        Ok(report) => {
            assert!(report.success(), "{report}");
            true
        }
        Err(Error::Network(NetworkError::Veth(e)))
            if matches!(e.op, NetOp::CreateVeth | NetOp::CreateBridge) && e.errno == Errno::EOPNOTSUPP =>
        {
            common::kernel_lacks(&format!("this kernel lacks veth or bridge (module not loaded): {e}"));
            false
        }
        Err(e) => panic!("probing veth and bridge: {e}"),
    })
}

#[test]
fn two_sandboxes_on_one_bridge_reach_each_other_and_the_gateway_and_it_goes_with_them() {
    if !require_bridge() {
        return;
    }
    in_new_netns(|| {
        let br = bridge_name();
        let script = "import socket\n\
            s = socket.socket(); s.bind(('10.234.1.2', 7000)); s.listen(1); print('ready', flush=True)\n\
            c, _ = s.accept(); c.sendall(b'from a'); c.close()\n";
        let mut py = cmd("/usr/bin/python3", &["-c", script]);
        py.stdout(Stdio::piped());
        let mut a = veth_sandbox(on_bridge(&br, 1, 2)).spawn(&py).unwrap();
        let mut line = String::new();
        BufReader::new(a.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready");
        let port_a = a.host_veth().unwrap().to_owned();
        assert_eq!(ports(&br), vec![port_a.clone()]);
        let dev = std::fs::read_to_string("/proc/thread-self/net/dev").unwrap();
        assert!(dev.contains(&br));
        // The gateway is the bridge's; the port has no address.
        let shown = Std::new("ip").args(["-o", "-4", "addr", "show"]).output().unwrap();
        let shown = String::from_utf8_lossy(&shown.stdout).into_owned();
        assert!(shown.lines().any(|l| l.contains(&br) && l.contains("10.234.1.1/24")), "{shown}");
        assert!(!shown.contains(&port_a), "{shown}");
        let gateway = TcpListener::bind(SocketAddr::from((addr(1, 1), 7001))).unwrap();
        let served = std::thread::spawn(move || {
            let (mut c, peer) = gateway.accept().unwrap();
            c.write_all(b"from the gateway").unwrap();
            peer
        });
        let b = veth_sandbox(on_bridge(&br, 1, 3));
        let script =
            "exec 3<>/dev/tcp/10.234.1.2/7000 && cat <&3 && echo && exec 4<>/dev/tcp/10.234.1.1/7001 && cat <&4";
        let out = b.output(&cmd("/usr/bin/timeout", &["5", "/bin/bash", "-c", script])).unwrap();
        assert!(out.report.success(), "{}: {}", out.report, String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "from a\nfrom the gateway");
        assert_eq!(served.join().unwrap().ip(), std::net::IpAddr::from(addr(1, 3)));
        assert!(a.wait().unwrap().success());
        assert_gone(&br);
        // The default is unchanged: a veth without a bridge has its own host address.
        let plain = Veth::new(addr(2, 2), addr(2, 1), 24);
        let mut c = veth_sandbox(plain).spawn(&cmd("/bin/sleep", &["5"])).unwrap();
        let name = c.host_veth().unwrap().to_owned();
        let shown = Std::new("ip").args(["-o", "-4", "addr", "show", &name]).output().unwrap();
        assert!(String::from_utf8_lossy(&shown.stdout).contains("10.234.2.1/24"));
        c.kill().unwrap();
        c.wait().unwrap();
    });
}

#[test]
fn a_failed_spawn_leaves_no_bridge_and_other_links_and_mismatches_are_refused() {
    if !require_bridge() {
        return;
    }
    in_new_netns(|| {
        // The port forward fails after the bridge was made: neither port nor bridge stays.
        let br = bridge_name();
        let failing = on_bridge(&br, 3, 2).port(PortForward::tcp(18081, 80).on(addr(9, 9)));
        let err = veth_sandbox(failing).spawn(&cmd("/bin/true", &[])).map(|_| ()).unwrap_err();
        assert!(matches!(err, Error::Network(NetworkError::Publish { .. })), "{err}");
        assert_gone(&br);
        // A bridge isobox did not make, and a link of another kind, are refused and left alone.
        let theirs = bridge_name();
        let dummy = bridge_name();
        assert!(Std::new("ip").args(["link", "add", &theirs, "type", "bridge"]).status().unwrap().success());
        let made_dummy = Std::new("ip")
            .args(["link", "add", &dummy, "type", "dummy"])
            .stderr(StdStdio::null())
            .status()
            .unwrap()
            .success();
        let err = veth_sandbox(on_bridge(&theirs, 4, 2)).spawn(&cmd("/bin/true", &[])).map(|_| ()).unwrap_err();
        assert!(
            matches!(&err, Error::Network(NetworkError::BridgeNotIsobox { bridge, kind }) if *bridge == theirs && kind.as_deref() == Some("bridge")),
            "{err}"
        );
        assert!(err.to_string().contains("choose another bridge name"), "{err}");
        if made_dummy {
            let err = veth_sandbox(on_bridge(&dummy, 4, 2)).spawn(&cmd("/bin/true", &[])).map(|_| ()).unwrap_err();
            assert!(
                matches!(&err, Error::Network(NetworkError::BridgeNotIsobox { kind, .. }) if kind.as_deref() == Some("dummy")),
                "{err}"
            );
        }
        assert!(eventually(|| !links_here().iter().any(|l| l.starts_with("ibx"))));
        assert!(links_here().contains(&theirs), "their bridge was deleted");
        // Live sandboxes of one bridge agree on NAT, and have addresses of their own.
        let br = bridge_name();
        let mut first = veth_sandbox(on_bridge(&br, 5, 2)).spawn(&cmd("/bin/sleep", &["10"])).unwrap();
        let err = veth_sandbox(on_bridge(&br, 5, 3).nat(true)).spawn(&cmd("/bin/true", &[])).map(|_| ()).unwrap_err();
        assert!(matches!(&err, Error::Network(NetworkError::BridgeNat { nat: false, .. })), "{err}");
        let err = veth_sandbox(on_bridge(&br, 5, 2)).spawn(&cmd("/bin/true", &[])).map(|_| ()).unwrap_err();
        assert!(matches!(&err, Error::Network(NetworkError::BridgeAddressInUse { .. })), "{err}");
        assert!(veth_sandbox(on_bridge(&br, 5, 3)).status(&cmd("/bin/true", &[])).unwrap().success());
        assert_eq!(ports(&br), vec![first.host_veth().unwrap().to_owned()]);
        first.kill().unwrap();
        first.wait().unwrap();
        assert_gone(&br);
    });
}

/// Starts this binary's helper (below) in this thread's namespace: it spawns `sleep` on each
/// `bridge:third.last` and prints `ready` once they run.
fn helper(spec: &str) -> std::process::Child {
    let exe = std::env::current_exe().unwrap();
    let mut child = Std::new(exe)
        .args(["--exact", "bridge_helper_process", "--ignored", "--nocapture", "--test-threads=1"])
        .env("ISOBOX_BRIDGE_HELPER", spec)
        .stdin(StdStdio::piped())
        .stdout(StdStdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.trim_end().ends_with("ready") {
        line.clear();
        assert_ne!(out.read_line(&mut line).unwrap(), 0, "the helper ended before it was ready");
    }
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    child
}

/// The helper process of the test below (does nothing without its environment variable).
#[test]
#[ignore]
fn bridge_helper_process() {
    let Ok(spec) = std::env::var("ISOBOX_BRIDGE_HELPER") else { return };
    let mut children = Vec::new();
    for one in spec.split(',') {
        let (bridge, third) = one.split_once(':').unwrap();
        let (third, last) = third.split_once('.').unwrap();
        let veth = on_bridge(bridge, third.parse().unwrap(), last.parse().unwrap());
        children.push(veth_sandbox(veth).spawn(&cmd("/bin/sleep", &["100"])).unwrap());
    }
    let mut out = std::io::stdout();
    writeln!(out, "ready").and_then(|()| out.flush()).unwrap(); // not print!: the harness may capture it
    let _ = std::io::stdin().read(&mut [0u8; 1]);
    drop(children);
    std::thread::sleep(Duration::from_millis(500)); // isobox's thread deletes the empty bridge
}

#[test]
fn another_processs_live_sandbox_keeps_its_address_on_a_shared_bridge() {
    if !require_bridge() {
        return;
    }
    in_new_netns(|| {
        let br = bridge_name();
        let mut other = helper(&format!("{br}:9.2"));
        // Its address is taken on the bridge (this process's registry knows nothing of it) ...
        let Err(err) = veth_sandbox(on_bridge(&br, 9, 2)).spawn(&cmd("/bin/sleep", &["100"])) else {
            panic!("the other process's address was given again");
        };
        assert!(matches!(&err, Error::Network(NetworkError::BridgeAddressInUse { .. })), "{err}");
        assert_eq!(ports(&br).len(), 1, "the refused spawn left no port: {:?}", ports(&br));
        // ... the next one is free, and once the other process has ended, so is its address.
        assert!(veth_sandbox(on_bridge(&br, 9, 3)).status(&cmd("/bin/true", &[])).unwrap().success());
        drop(other.stdin.take());
        assert!(other.wait().unwrap().success());
        assert!(veth_sandbox(on_bridge(&br, 9, 2)).status(&cmd("/bin/true", &[])).unwrap().success());
        assert_gone(&br);
    });
}

#[test]
fn a_killed_owners_empty_bridge_is_swept_and_a_live_process_keeps_a_shared_one() {
    if !require_bridge() {
        return;
    }
    in_new_netns(|| {
        let (shared, alone) = (bridge_name(), bridge_name());
        let mut live = helper(&format!("{shared}:6.3"));
        let mut killed = helper(&format!("{shared}:6.2,{alone}:7.2"));
        assert_eq!(ports(&shared).len(), 2);
        assert_eq!(ports(&alone).len(), 1);
        killed.kill().unwrap(); // SIGKILL: its sandboxes die with it (their pairs with them)
        killed.wait().unwrap();
        // This process's first veth spawn here sweeps: the dead owner's ports, then the empty bridge.
        let plain = Veth::new(addr(8, 2), addr(8, 1), 24);
        assert!(veth_sandbox(plain).status(&cmd("/bin/true", &[])).unwrap().success());
        let here = links_here();
        assert!(!here.contains(&alone), "the killed owner's bridge stayed: {here:?}");
        assert!(here.contains(&shared), "the live process's bridge was swept: {here:?}");
        assert!(eventually(|| ports(&shared).len() == 1), "{:?}", ports(&shared));
        drop(live.stdin.take());
        assert!(live.wait().unwrap().success());
        assert_gone(&shared);
        assert_gone(&alone);
    });
}

#[test]
fn a_thousand_spawns_on_a_bridge_leave_no_port_or_bridge() {
    if !require_bridge() {
        return;
    }
    in_new_netns(|| {
        let br = bridge_name();
        let sb = veth_sandbox(on_bridge(&br, 9, 2));
        let started = Instant::now();
        let n = common::spawns(1000);
        for i in 0..n {
            assert!(sb.status(&cmd("/bin/true", &[])).unwrap().success(), "spawn {i}");
        }
        eprintln!("{n} bridge spawns in {:?}", started.elapsed());
        assert_gone(&br);
        // The sandbox's address gets the same hardware address each time (ARP caches stay right).
        let out = common::sh(&sb, "ip -o link show eth0");
        assert!(out.contains("02:1b:0a:ea:09:02"), "{out}");
        assert_gone(&br);
    });
}
