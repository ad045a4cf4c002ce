//! A veth's egress limit when the sandbox keeps `CAP_NET_ADMIN` or `CAP_NET_RAW`: it sits on
//! the host side (the host end's ingress redirected to an ifb with the tbf), so the sandbox
//! can neither delete it nor send past it. Each attempt is made from inside; the rate is
//! measured on the host side, which is a network namespace the test made (10.235.x only).
//! The ifb's life (with the `Child`, a failed spawn, a SIGKILLed owner) is in
//! `network_bandwidth_ifb.rs`.
mod common;
#[path = "common/net.rs"]
mod net;

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use common::{cmd, require_root, sandbox};
use isobox::{
    Bandwidth, BandwidthError, Capabilities, Child, Error, NetOp, Network, NetworkError, Sandbox, Stdio, Veth,
};
use net::{ibx_left_after, in_new_netns, links_here, sink_rate};
use nix::errno::Errno;

/// A sandbox on 10.235.`net`.0/24 keeping `caps`, its egress limited to `bps`.
fn limited(caps: Capabilities, bps: u64, net: u8) -> Sandbox {
    let veth = Veth::new(Ipv4Addr::new(10, 235, net, 2), Ipv4Addr::new(10, 235, net, 1), 24)
        .bandwidth(Bandwidth::new().egress(bps));
    sandbox(|b| {
        b.network(Network::Veth(veth)).capabilities(caps);
    })
}

/// Spawns `cmd` in `sb`, or `None` (a printed skip) if the kernel lacks veth, ifb or tbf.
fn spawn_or_skip(sb: &Sandbox, cmd: &isobox::Command) -> Option<Child> {
    match sb.spawn(cmd) {
        Err(Error::Network(NetworkError::Veth(e))) if e.op == NetOp::CreateVeth && e.errno == Errno::EOPNOTSUPP => {
            common::kernel_lacks(&format!("this kernel has no veth (module not loaded): {e}"));
            None
        }
        Err(Error::Network(NetworkError::Bandwidth(e @ BandwidthError::KernelLacks { .. }))) => {
            common::kernel_lacks(&e.to_string());
            None
        }
        other => Some(other.unwrap()),
    }
}

/// Python in the sandbox: its first process's netlink requests on `eth0`'s qdiscs (tc's,
/// without needing tc), each printing the errno of its ack.
const QDISC_ATTEMPTS: &str = r#"
import socket, struct, time
def tc(kind, flags, handle, parent, attrs=b''):
    body = struct.pack('=BxHiIII', 0, 0, socket.if_nametoindex('eth0'), handle, parent, 0) + attrs
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    s.send(struct.pack('=IHHII', 16 + len(body), kind, 1 | 4 | flags, 1, 0) + body)
    return -struct.unpack('=i', s.recv(65536)[16:20])[0]
ROOT, INGRESS, NEW, DEL = 0xFFFFFFFF, 0xFFFFFFF1, 36, 37
print('del-root', tc(DEL, 0, 0, ROOT))
print('del-ingress', tc(DEL, 0, 0xFFFF0000, INGRESS))
print('add-pfifo', tc(NEW, 0x600, 0x10000, ROOT, struct.pack('=HH', 10, 1) + b'pfifo\0\0\0'))
print('del-pfifo', tc(DEL, 0, 0, ROOT), flush=True)
for _ in range(250):
    try: o = socket.create_connection(('10.235.{N}.1', 7101)); break
    except ConnectionRefusedError: time.sleep(0.02)
end = time.monotonic() + 2.5
while time.monotonic() < end: o.sendall(b'x' * 16384)
o.close()
"#;

#[test]
fn with_net_admin_kept_a_2_mbit_egress_limit_holds_though_the_sandbox_deletes_its_qdiscs() {
    net_admin_cannot_lift(2_000_000, 1);
}

#[test]
fn with_net_admin_kept_a_10_mbit_egress_limit_holds_though_the_sandbox_deletes_its_qdiscs() {
    net_admin_cannot_lift(10_000_000, 2);
}

fn net_admin_cannot_lift(asked: u64, net: u8) {
    if !require_root() {
        return;
    }
    in_new_netns(|| {
        let mut py = cmd("/usr/bin/python3", &["-c", &QDISC_ATTEMPTS.replace("{N}", &net.to_string())]);
        py.stdout(Stdio::piped());
        let Some(mut child) = spawn_or_skip(&limited(Capabilities::NET_ADMIN, asked, net), &py) else {
            return;
        };
        // The host address exists once the spawn returns; the sandbox retries until it listens.
        let sink = TcpListener::bind((Ipv4Addr::new(10, 235, net, 1), 7101)).unwrap();
        let host_if = child.host_veth().unwrap().to_string();
        let ifb = host_if.replacen('-', "_", 1);
        assert!(links_here().contains(&ifb), "no ifb {ifb} next to {host_if}: {:?}", links_here());
        let tc = std::process::Command::new("tc").args(["qdisc", "show", "dev", &ifb]).output();
        if let Ok(tc) = tc {
            let tc = String::from_utf8_lossy(&tc.stdout);
            assert!(tc.contains("tbf") && tc.contains(&format!("rate {}Mbit", asked / 1_000_000)), "{tc}");
        }
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut said = String::new();
        for _ in 0..4 {
            out.read_line(&mut said).unwrap();
        }
        // Nothing of isobox's on eth0 (the default root qdisc has handle 0: ENOENT); the
        // capability works there (a qdisc of its own added and deleted).
        assert!(said.contains("del-root 2\n") && said.contains("add-pfifo 0\n"), "{said}");
        assert!(said.contains("del-pfifo 0\n"), "{said}");
        // The receiver's rate, and what the ifb's tbf let through from 0.8 to 2 s of the 2.5 s.
        let (rate, tbf_rate) = std::thread::scope(|s| {
            let received = s.spawn(|| sink_rate(&sink));
            let egress_bytes =
                |child: &mut Child| child.net_stats().unwrap().unwrap().egress.expect("the ifb's tbf").bytes;
            std::thread::sleep(Duration::from_millis(800));
            let (b0, t0) = (egress_bytes(&mut child), Instant::now());
            std::thread::sleep(Duration::from_millis(1200));
            let (b1, t1) = (egress_bytes(&mut child), Instant::now());
            (received.join().unwrap(), net::rate_of(b1 - b0, t1 - t0))
        });
        let (of, tbf_of) = (rate / asked as f64, tbf_rate / asked as f64);
        eprintln!("with NET_ADMIN: {of:.3} of {asked} bit/s received, {tbf_of:.3} through the tbf ({said:?})");
        assert!((0.9..1.1).contains(&tbf_of), "out of the sandbox: {tbf_rate:.0} bit/s for {asked}");
        assert!((0.9..1.1).contains(&of), "received: {rate:.0} bit/s for {asked}");
        let stats = child.net_stats().expect("a limit").unwrap();
        assert!(stats.egress.is_some_and(|e| e.bytes > asked / 8) && stats.ingress.is_none(), "{stats:?}");
        assert!(child.wait().unwrap().success());
        assert_eq!(ibx_left_after(Duration::from_secs(3)), Vec::<String>::new(), "veth or ifb left behind");
    });
}

/// Python in the sandbox: raw frames (UDP to the host side's :7102, 1514 bytes each) through
/// a packet socket that skips `eth0`'s qdisc (`PACKET_QDISC_BYPASS`), for 2.5 s in bursts of
/// 17 frames a millisecond (~200 Mbit/s: 20 times the limit, without a flood that would starve
/// the machine's other tests); prints the rate it sent at.
const BYPASS: &str = r#"
import socket, struct, time
host, me = '10.235.{N}.1', '10.235.{N}.2'
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'hi', (host, 7102)); time.sleep(0.3)
mac = [bytes.fromhex(f[3].replace(':', '')) for f in map(str.split, open('/proc/net/arp')) if f[0] == host][0]
p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); p.bind(('eth0', 0))
p.setsockopt(263, 20, 1)
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 1500, 0, 0x4000, 64, 17, 0, socket.inet_aton(me), socket.inet_aton(host))
s = sum(struct.unpack('!10H', ip)); s = (s & 0xffff) + (s >> 16); s = (s & 0xffff) + (s >> 16)
ip = ip[:10] + struct.pack('!H', ~s & 0xffff) + ip[12:]
frame = mac + p.getsockname()[4] + b'\x08\x00' + ip + struct.pack('!HHHH', 7103, 7102, 1480, 0) + b'x' * 1472
n, end = 0, time.monotonic() + 2.5
while time.monotonic() < end:
    for _ in range(17): p.send(frame)
    n += 17; time.sleep(0.001)
print('sent', n * len(frame) * 8 / 2.5, flush=True)
"#;

#[test]
fn with_net_raw_kept_a_10_mbit_egress_limit_holds_against_packet_qdisc_bypass() {
    if !require_root() {
        return;
    }
    let asked = 10_000_000u64;
    in_new_netns(|| {
        let mut py = cmd("/usr/bin/python3", &["-c", &BYPASS.replace("{N}", "3")]);
        py.stdout(Stdio::piped());
        // DOCKER_DEFAULT keeps NET_RAW (not NET_ADMIN).
        let Some(mut child) = spawn_or_skip(&limited(Capabilities::DOCKER_DEFAULT, asked, 3), &py) else {
            return;
        };
        // Bound once the spawn returns; the sandbox sends after 0.3 s (its first datagram is for ARP).
        let udp = UdpSocket::bind((Ipv4Addr::new(10, 235, 3, 1), 7102)).unwrap();
        udp.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        // Frames of 1514 bytes (the 1472 of payload and 42 of headers), what the tbf counts,
        // from 0.5 s after the first to the last.
        let (mut buf, mut first, mut from, mut last, mut frames) = ([0u8; 2048], None, None, None, 0u64);
        while let Ok(n) = udp.recv(&mut buf) {
            let now = Instant::now();
            if n != 1472 {
                continue;
            }
            let start = *first.get_or_insert(now);
            if now >= start + Duration::from_millis(500) {
                from.get_or_insert(now);
                (frames, last) = (frames + 1, Some(now));
            }
        }
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert!(child.wait().unwrap().success(), "the attempt did not run: {line}");
        let sent: f64 = line.trim().strip_prefix("sent ").unwrap().parse().unwrap();
        let took = last.expect("frames after the warm-up").duration_since(from.unwrap());
        let rate = net::rate_of(frames * 1514, took);
        eprintln!(
            "with NET_RAW: sent at {sent:.0} bit/s past eth0's qdisc, {:.3} of {asked} arrived",
            rate / asked as f64
        );
        assert!(sent > 3.0 * asked as f64, "the bypass did not send faster than the limit: {sent:.0} bit/s");
        assert!((0.9..1.1).contains(&(rate / asked as f64)), "out of the sandbox: {rate:.0} bit/s for {asked}");
        assert_eq!(ibx_left_after(Duration::from_secs(3)), Vec::<String>::new(), "veth or ifb left behind");
    });
}

/// Python in the sandbox: 2000 Ethernet frames with no payload at all (14 bytes: a key of a
/// u32 filter reads 4 bytes past the Ethernet header, and such frames failed it, unshaped),
/// through a packet socket that skips `eth0`'s qdisc; prints how many it sent.
const SHORT_FRAMES: &str = r#"
import socket, time
host = '10.235.{N}.1'
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'hi', (host, 7104)); time.sleep(0.3)
mac = [bytes.fromhex(f[3].replace(':', '')) for f in map(str.split, open('/proc/net/arp')) if f[0] == host][0]
p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); p.bind(('eth0', 0))
p.setsockopt(263, 20, 1)
frame = mac + p.getsockname()[4] + b'\x88\xb5'
for _ in range(2000): p.send(frame)
print('sent', 2000, flush=True)
"#;

#[test]
fn with_net_raw_kept_frames_with_no_payload_go_through_the_egress_limit_too() {
    if !require_root() {
        return;
    }
    in_new_netns(|| {
        let mut py = cmd("/usr/bin/python3", &["-c", &SHORT_FRAMES.replace("{N}", "4")]);
        py.stdout(Stdio::piped());
        let Some(mut child) = spawn_or_skip(&limited(Capabilities::DOCKER_DEFAULT, 10_000_000, 4), &py) else {
            return;
        };
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line, "sent 2000\n");
        std::thread::sleep(Duration::from_millis(200)); // what the tbf holds goes out
        let egress = child.net_stats().expect("limits").unwrap().egress.unwrap();
        assert!(child.wait().unwrap().success());
        // Every frame through the ifb's tbf (sent or dropped there), and the ARP and the datagram.
        assert!(egress.packets + egress.drops >= 2000, "{egress:?}: frames went past the limit");
        assert_eq!(ibx_left_after(Duration::from_secs(3)), Vec::<String>::new(), "veth or ifb left behind");
    });
}
