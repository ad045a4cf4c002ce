//! A veth's bandwidth limits through the builder: set on the host side at each spawn, read
//! back, enforced (roughly here; the wing's own tests measure ±10% at 2 and 10 Mbit/s), counted,
//! and removed with the sandbox. The spawning thread runs in a network namespace the test
//! creates, so the "host side" is that namespace; addresses are 10.x only.
mod common;
#[path = "common/net.rs"]
mod net;

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::{cmd, require_root, sandbox};
use isobox::{Bandwidth, Error, NetOp, Network, NetworkError, Stdio, Veth};
use net::{ibx_left_after, in_new_netns, links_here, sink_rate};
use nix::errno::Errno;

const OUT_OF: u64 = 2_000_000;

/// The sandbox: counts what it receives on :7100 (and prints the rate it saw after a warm-up
/// of 0.5 s), then sends for 2.5 s to the host side's :7101.
const SCRIPT: &str = r#"
import socket, time
s = socket.socket(); s.bind(('10.232.NET.2', 7100)); s.listen(1); print('ready', flush=True)
c, _ = s.accept(); n = 0; t0 = None; t1 = None
while True:
    b = c.recv(65536)
    if not b: break
    now = time.monotonic()
    if t0 is None: t0 = now + 0.5
    if now >= t0: n += len(b); t1 = now
print('in', n * 8 / (t1 - t0), flush=True)
o = socket.create_connection(('10.232.NET.1', 7101)); end = time.monotonic() + 2.5
while time.monotonic() < end: o.sendall(b'x' * 16384)
o.close()
"#;

#[test]
fn veth_limits_of_10_in_and_2_mbit_out_are_set_read_back_enforced_counted_and_removed() {
    measured_twice_at_most(|| limits_hold(10_000_000, 2_000_000, 1));
}

#[test]
fn veth_limits_of_2_in_and_10_mbit_out_are_set_read_back_enforced_counted_and_removed() {
    measured_twice_at_most(|| limits_hold(2_000_000, 10_000_000, 3));
}

/// Runs `measure`, and once more if it failed: on a machine busy with other tests the sender or
/// the receiver can be kept off the CPU long enough to miss ±10% (seen in CI: 0.88 of 10 Mbit/s
/// once in about ten runs). A limit that does not hold fails both.
fn measured_twice_at_most(measure: impl Fn() + std::panic::RefUnwindSafe) {
    if std::panic::catch_unwind(&measure).is_err() {
        eprintln!("the measurement missed: once more");
        measure();
    }
}

/// A sandbox limited to `into` bit/s in and `out_of` out, on 10.232.`net`.0/24: each within
/// ±10%, measured at the receiver.
fn limits_hold(into_asked: u64, out_asked: u64, net: u8) {
    if !require_root() {
        return;
    }
    in_new_netns(|| {
        let limits = Bandwidth::new().ingress(into_asked).egress(out_asked);
        let veth = Veth::new(Ipv4Addr::new(10, 232, net, 2), Ipv4Addr::new(10, 232, net, 1), 24).bandwidth(limits);
        let sb = sandbox(|b| {
            b.network(Network::Veth(veth));
        });
        let script = SCRIPT.replace("NET", &net.to_string());
        let mut py = cmd("/usr/bin/python3", &["-c", &script]);
        py.stdout(Stdio::piped());
        let mut child = match sb.spawn(&py) {
            Err(Error::Network(NetworkError::Veth(e))) if e.op == NetOp::CreateVeth && e.errno == Errno::EOPNOTSUPP => {
                return common::kernel_lacks(&format!("this kernel has no veth (module not loaded): {e}"));
            }
            other => other.unwrap(),
        };
        let host_if = child.host_veth().unwrap().to_string();
        let others: Vec<String> = links_here().into_iter().filter(|l| l.starts_with("ibx") && *l != host_if).collect();
        assert_eq!(others, Vec::<String>::new(), "the egress limit is on the sandbox's eth0: no ifb");
        let tc = std::process::Command::new("tc").args(["qdisc", "show", "dev", &host_if]).output().unwrap();
        let tc = String::from_utf8_lossy(&tc.stdout);
        assert!(tc.contains("tbf") && tc.contains(&format!("rate {}Mbit", into_asked / 1_000_000)), "{tc}");
        let sink = TcpListener::bind((Ipv4Addr::new(10, 232, net, 1), 7101)).unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line, "ready\n");
        // Into the sandbox for 3 s.
        let to = SocketAddr::from((Ipv4Addr::new(10, 232, net, 2), 7100));
        let mut conn = TcpStream::connect_timeout(&to, Duration::from_secs(2)).unwrap();
        let end = Instant::now() + Duration::from_secs(3);
        while Instant::now() < end {
            conn.write_all(&[0u8; 16384]).unwrap();
        }
        drop(conn);
        line.clear();
        out.read_line(&mut line).unwrap();
        let into: f64 = line.trim().strip_prefix("in ").unwrap().parse().unwrap();
        assert!((0.9..1.1).contains(&(into / into_asked as f64)), "into the sandbox: {into:.0} bit/s for {into_asked}");
        // Out of it, measured here after 0.5 s.
        let out_of = sink_rate(&sink);
        assert!(
            (0.9..1.1).contains(&(out_of / out_asked as f64)),
            "out of the sandbox: {out_of:.0} bit/s for {out_asked}"
        );
        eprintln!(
            "measured: in {:.3}, out {:.3} of the asked rates",
            into / into_asked as f64,
            out_of / out_asked as f64
        );
        let stats = child.net_stats().expect("limits").unwrap();
        let (ingress, egress) = (stats.ingress.unwrap(), stats.egress.unwrap());
        assert!(ingress.bytes > into_asked / 8 && egress.bytes > out_asked / 8, "{stats:?}");
        assert!(child.wait().unwrap().success());
        assert!(child.net_stats().is_none(), "the pair is gone with the sandbox");
        let left = ibx_left_after(Duration::from_secs(3));
        assert_eq!(left, Vec::<String>::new(), "veth or ifb left behind");
    });
}

#[test]
fn rootless_an_egress_limit_with_net_admin_or_net_raw_kept_builds() {
    let limits = Bandwidth::new().egress(OUT_OF);
    let veth = Veth::new(Ipv4Addr::new(10, 232, 2, 2), Ipv4Addr::new(10, 232, 2, 1), 24).bandwidth(limits);
    // The limit then sits on the host side (an ifb), out of reach of both capabilities.
    for caps in [isobox::Capabilities::NET_ADMIN, isobox::Capabilities::NET_RAW, isobox::Capabilities::DOCKER_DEFAULT] {
        let mut b = isobox::Sandbox::builder();
        b.namespaces(common::full()).network(Network::Veth(veth.clone())).capabilities(caps);
        match b.build() {
            Ok(_) if common::is_root() => {}
            // Not root: Veth itself is refused.
            Err(Error::Config(isobox::ConfigError::Network(isobox::NetworkConfigError::VethNeedsRoot)))
                if !common::is_root() => {}
            other => panic!("{caps:?}: {other:?}"),
        }
    }
}

#[test]
fn the_sandbox_cannot_remove_its_egress_limit_from_inside() {
    if !require_root() {
        return;
    }
    in_new_netns(|| {
        let limits = Bandwidth::new().egress(OUT_OF);
        let veth = Veth::new(Ipv4Addr::new(10, 232, 4, 2), Ipv4Addr::new(10, 232, 4, 1), 24).bandwidth(limits);
        let sb = sandbox(|b| {
            b.network(Network::Veth(veth));
        });
        let script = "tc qdisc del dev eth0 root 2>/dev/null; echo del=$?; \
                      ip link set eth0 down 2>/dev/null; echo down=$?; sleep 2";
        let mut sh = cmd("/bin/sh", &["-c", script]);
        sh.stdout(Stdio::piped());
        let mut child = match sb.spawn(&sh) {
            Err(Error::Network(NetworkError::Veth(e))) if e.op == NetOp::CreateVeth && e.errno == Errno::EOPNOTSUPP => {
                return common::kernel_lacks(&format!("this kernel has no veth (module not loaded): {e}"));
            }
            other => other.unwrap(),
        };
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (mut del, mut down) = (String::new(), String::new());
        out.read_line(&mut del).unwrap();
        out.read_line(&mut down).unwrap();
        assert!(del.starts_with("del=") && del.trim() != "del=0", "the sandbox removed its tbf: {del}");
        assert!(down.starts_with("down=") && down.trim() != "down=0", "the sandbox took its eth0 down: {down}");
        // The tbf is still eth0's root qdisc: its counters read back as a tbf's.
        let stats = child.net_stats().expect("limits").unwrap();
        assert!(stats.egress.is_some(), "{stats:?}");
        child.kill().unwrap();
        child.wait().unwrap();
    });
}
