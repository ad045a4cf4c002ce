//! `Veth::nat`: a veth sandbox's way out through NAT (root). Each test builds its topology in
//! network namespaces it creates: an "outside" one (a thread of its own) with a TCP server on
//! 10.232.0.2 that answers with the peer address it sees, and a test "host" one (the spawning
//! thread's) joined to it by a veth (10.232.0.1) with a default route there. Everything dies
//! with the two threads' namespaces; the real host's ruleset is compared before and after.
//! Without `nft` (nftables) or veth, a printed skip.
mod common;
#[path = "common/net.rs"]
mod net;

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::fs::MetadataExt;
use std::process::Command as Std;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{cmd, require_root, sandbox};
use isobox::{Error, NatError, NetOp, Network, NetworkError, PortForward, Sandbox, Veth};
use net::{links_here, thread_netns};
use nix::errno::Errno;
use nix::sched::{unshare, CloneFlags};

const OUTSIDE: Ipv4Addr = Ipv4Addr::new(10, 232, 0, 2);
const HOST_OUT: Ipv4Addr = Ipv4Addr::new(10, 232, 0, 1);
const PORT: u16 = 8080;

fn run(program: &str, args: &[&str]) -> String {
    let out = Std::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The real host's NAT state, as the tools print it (no iptables: empty).
fn host_rules() -> (String, String) {
    let text = |p: &str, a: &[&str]| Std::new(p).args(a).output().map(|o| String::from_utf8_lossy(&o.stdout).into());
    (text("nft", &["list", "ruleset"]).unwrap_or_default(), text("iptables", &["-t", "nat", "-S"]).unwrap_or_default())
}

/// The listing once the rules are gone, or after 10 s: a rule is deleted on isobox's deleter
/// thread with its pair, moments after the `wait`.
fn isobox_chain_soon() -> String {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let listing = isobox_chain();
        if listing.is_empty() || std::time::Instant::now() > end {
            return listing;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The isobox rules' listing in the calling thread's namespace ("" without the table).
fn isobox_chain() -> String {
    Std::new("nft")
        .args(["--handle", "list", "table", "ip", "isobox"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn require_tools() -> bool {
    if !require_root() {
        return false;
    }
    for tool in ["nft", "ip"] {
        // CI's set-up installs them: a missing one fails under ISOBOX_REQUIRE_PRIVILEGES=1.
        let found = Std::new(tool).arg("-V").output().is_ok();
        if !common::require(found, &format!("no {tool} binary (.ci/setup-host installs nftables and iproute2)")) {
            return false;
        }
    }
    true
}

/// Runs `f` on a thread moved into a new "host" namespace joined to an "outside" one serving
/// on [`OUTSIDE`]; `forward` turns forwarding on for the host's outside link. `None`: no veth.
fn with_topology<T: Send>(forward: bool, f: impl FnOnce() -> T + Send) -> Option<T> {
    let real = host_rules();
    let host = thread_netns();
    let stop = AtomicBool::new(false);
    let tag = format!("nto{}", std::process::id());
    let result = std::thread::scope(|s| {
        let (tid_tx, tid_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<bool>();
        let (stop, tag2) = (&stop, tag.clone());
        let server = s.spawn(move || {
            unshare(CloneFlags::CLONE_NEWNET).expect("unshare");
            assert_ne!(thread_netns(), host);
            tid_tx.send(nix::unistd::gettid().as_raw()).unwrap();
            if go_rx.recv() != Ok(true) {
                return;
            }
            run("ip", &["addr", "add", &format!("{OUTSIDE}/24"), "dev", &format!("{tag2}b")]);
            run("ip", &["link", "set", &format!("{tag2}b"), "up"]);
            serve(stop);
        });
        let tid = tid_rx.recv().unwrap();
        let out = s
            .spawn(move || {
                unshare(CloneFlags::CLONE_NEWNET).expect("unshare");
                assert_ne!(thread_netns(), host);
                let (a, b) = (format!("{tag}a"), format!("{tag}b"));
                let made = Std::new("ip")
                    .args(["link", "add", &a, "type", "veth", "peer", "name", &b, "netns", &tid.to_string()])
                    .status();
                if !made.is_ok_and(|s| s.success()) {
                    common::kernel_lacks("no veth pair (the veth driver missing)");
                    let _ = go_tx.send(false);
                    return None;
                }
                run("ip", &["addr", "add", &format!("{HOST_OUT}/24"), "dev", &a]);
                run("ip", &["link", "set", &a, "up"]);
                run("ip", &["route", "add", "default", "via", &OUTSIDE.to_string()]);
                std::fs::write(format!("/proc/sys/net/ipv4/conf/{a}/forwarding"), if forward { "1" } else { "0" })
                    .unwrap();
                go_tx.send(true).unwrap();
                let out = f();
                stop.store(true, Ordering::SeqCst);
                Some(out)
            })
            .join();
        stop.store(true, Ordering::SeqCst);
        server.join().unwrap();
        out.unwrap_or_else(|p| std::panic::resume_unwind(p))
    });
    assert_eq!(host_rules(), real, "the real host's tables changed");
    result
}

/// Answers each connection with the peer's address, until `stop`.
fn serve(stop: &AtomicBool) {
    let listener = TcpListener::bind(SocketAddr::from((OUTSIDE, PORT))).unwrap();
    listener.set_nonblocking(true).unwrap();
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((mut c, peer)) => {
                let _ = writeln!(c, "{}", peer.ip());
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn nat_sandbox(third: u8, nat: bool) -> Sandbox {
    let veth = Veth::new(Ipv4Addr::new(10, 233, third, 2), Ipv4Addr::new(10, 233, third, 1), 24).nat(nat);
    sandbox(|b| {
        b.network(Network::Veth(veth));
    })
}

/// What the outside server said to the sandbox, or `None` if it could not connect.
fn ask_outside(sandbox: &Sandbox) -> Option<String> {
    let script = format!("exec 3<>/dev/tcp/{OUTSIDE}/{PORT} && cat <&3");
    let out = sandbox.output(&cmd("/usr/bin/timeout", &["2", "/bin/bash", "-c", &script])).unwrap();
    out.report.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn veth_missing(e: &Error) -> bool {
    matches!(e, Error::Network(NetworkError::Veth(n)) if n.op == NetOp::CreateVeth && n.errno == Errno::EOPNOTSUPP)
}

#[test]
fn a_nat_veth_reaches_the_outside_masqueraded_and_its_rule_goes_with_it() {
    if !require_tools() {
        return;
    }
    with_topology(true, || {
        let nat = nat_sandbox(1, true);
        let mut child = match nat.spawn(&cmd("/bin/sleep", &["0.3"])) {
            Err(e) if veth_missing(&e) => return common::kernel_lacks(&format!("no veth: {e}")),
            other => other.unwrap(),
        };
        let host_end = child.host_veth().unwrap().to_owned();
        let listing = isobox_chain();
        assert!(listing.contains(&format!("oifname != \"{host_end}\" masquerade")), "{listing}");
        let (pid_ns, pid) = (std::fs::metadata("/proc/self/ns/pid").unwrap().ino(), std::process::id());
        let comment = format!("comment \"isobox {pid_ns} {pid} ");
        assert!(listing.contains(&comment) && listing.contains(&format!(" {host_end}\"")), "{listing}");
        let fwd = std::fs::read_to_string(format!("/proc/sys/net/ipv4/conf/{host_end}/forwarding")).unwrap();
        assert_eq!(fwd.trim(), "1");
        assert!(child.wait().unwrap().success());
        assert_eq!(isobox_chain_soon(), "", "rule and table gone after wait");
        // The server sees the host side's outside address, not the sandbox's.
        assert_eq!(ask_outside(&nat).as_deref(), Some("10.232.0.1"));
        assert_eq!(isobox_chain_soon(), "");
        // Without nat, no way out.
        assert_eq!(ask_outside(&nat_sandbox(2, false)), None);
        assert_eq!(isobox_chain_soon(), "");
    });
}

#[test]
fn nat_is_refused_when_the_outbound_link_does_not_forward_and_a_failed_spawn_leaves_no_rule() {
    if !require_tools() {
        return;
    }
    with_topology(false, || {
        match nat_sandbox(1, true).spawn(&cmd("/bin/true", &[])) {
            Err(e) if veth_missing(&e) => return common::kernel_lacks(&format!("no veth: {e}")),
            Err(Error::Network(NetworkError::Nat(NatError::OutboundForwardingOff { interface, .. }))) => {
                assert!(interface.starts_with("nto"), "{interface}");
            }
            other => panic!("expected OutboundForwardingOff: {other:?}"),
        }
        assert_eq!(isobox_chain_soon(), "");
        let link = std::fs::read_dir("/proc/sys/net/ipv4/conf").unwrap().flatten().find_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.starts_with("nto").then_some(name)
        });
        std::fs::write(format!("/proc/sys/net/ipv4/conf/{}/forwarding", link.unwrap()), "1").unwrap();
        // The rule is added, then the port forward fails (not a host-side address): none left.
        let veth = Veth::new(Ipv4Addr::new(10, 233, 3, 2), Ipv4Addr::new(10, 233, 3, 1), 24)
            .nat(true)
            .port(PortForward::tcp(18080, 80).on(Ipv4Addr::new(10, 233, 9, 9)));
        let failing = sandbox(|b| {
            b.network(Network::Veth(veth));
        });
        let err = failing.spawn(&cmd("/bin/true", &[])).map(|_| ()).unwrap_err();
        assert!(matches!(err, Error::Network(NetworkError::Publish { .. })), "{err}");
        assert_eq!(isobox_chain_soon(), "", "no rule after a failed spawn");
    });
}

#[test]
fn a_leftover_rule_of_a_dead_owner_is_swept() {
    if !require_tools() {
        return;
    }
    with_topology(true, || {
        let pid_ns = std::fs::metadata("/proc/self/ns/pid").unwrap().ino();
        let script = format!(
            "table ip isobox {{\n chain postrouting {{ type nat hook postrouting priority srcnat; policy accept; }}\n}}\n\
             add rule ip isobox postrouting ip saddr 10.233.7.2 masquerade comment \"isobox {pid_ns} 4194305 5 ibxdead-0\"\n\
             add rule ip isobox postrouting ip saddr 10.233.8.2 masquerade comment \"isobox {} 4194305 5 ibxelse-0\"\n",
            pid_ns + 1
        );
        let mut nft = Std::new("nft").args(["-f", "-"]).stdin(std::process::Stdio::piped()).spawn().unwrap();
        nft.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
        assert!(nft.wait().unwrap().success());
        match nat_sandbox(1, true).status(&cmd("/bin/true", &[])) {
            Err(e) if veth_missing(&e) => return common::kernel_lacks(&format!("no veth: {e}")),
            other => assert!(other.unwrap().success()),
        }
        let listing = isobox_chain();
        assert!(!listing.contains("ibxdead-0"), "the dead owner's rule is swept:\n{listing}");
        assert!(listing.contains("ibxelse-0"), "another pid namespace's rule stays:\n{listing}");
        assert!(!listing.contains("oifname"), "the sandbox's own rule is gone:\n{listing}");
    });
}

#[test]
fn a_rule_goes_when_its_child_is_dropped_on_a_thread_of_another_namespace() {
    if !require_tools() {
        return;
    }
    with_topology(true, || {
        let mut child = match nat_sandbox(1, true).spawn(&cmd("/bin/sleep", &["5"])) {
            Err(e) if veth_missing(&e) => return common::kernel_lacks(&format!("no veth: {e}")),
            other => other.unwrap(),
        };
        assert!(isobox_chain().contains("masquerade"));
        child.kill().unwrap();
        let here = thread_netns();
        std::thread::spawn(move || {
            unshare(CloneFlags::CLONE_NEWNET).expect("unshare");
            assert_ne!(thread_netns(), here);
            drop(child);
        })
        .join()
        .unwrap();
        assert_eq!(isobox_chain_soon(), "", "the rule is deleted in its own namespace");
    });
}

#[test]
fn a_thousand_nat_spawns_leave_no_rule_table_or_link() {
    if !require_tools() {
        return;
    }
    with_topology(true, || {
        let nat = nat_sandbox(5, true);
        let started = Instant::now();
        let n = common::spawns(1000);
        for i in 0..n {
            match nat.status(&cmd("/bin/true", &[])) {
                Err(e) if i == 0 && veth_missing(&e) => return common::kernel_lacks(&format!("no veth: {e}")),
                other => assert!(other.unwrap().success(), "spawn {i}"),
            }
        }
        eprintln!("{n} NAT spawns in {:?}", started.elapsed());
        assert_eq!(isobox_chain_soon(), "", "a rule or the table left after {n} spawns");
        let deadline = Instant::now() + Duration::from_secs(3);
        let links = || std::fs::read_to_string("/proc/thread-self/net/dev").unwrap().matches("ibx").count();
        while links() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(links(), 0, "host-side veths left after {n} spawns");
    });
}

fn bridged_nat_sandbox(bridge: &str, last: u8) -> Sandbox {
    let veth = Veth::new(Ipv4Addr::new(10, 233, 20, last), Ipv4Addr::new(10, 233, 20, 1), 24)
        .nat(true)
        .bridge(isobox::Bridge::new(bridge));
    sandbox(|b| {
        b.network(Network::Veth(veth));
    })
}

/// Waits up to 3 s for no `ibx*` link and no `bridge` in this thread's namespace.
fn assert_no_port_or_bridge(bridge: &str) {
    let left = || links_here().into_iter().filter(|l| l.starts_with("ibx") || l == bridge).collect::<Vec<_>>();
    let deadline = Instant::now() + Duration::from_secs(3);
    while !left().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(left(), Vec::<String>::new(), "ports or the bridge left");
}

#[test]
fn two_nat_sandboxes_on_a_bridge_reach_the_outside_masqueraded_and_leave_nothing() {
    if !require_tools() {
        return;
    }
    with_topology(true, || {
        let bridge = format!("ibn{}", std::process::id());
        let mut first = match bridged_nat_sandbox(&bridge, 2).spawn(&cmd("/bin/sleep", &["10"])) {
            Err(e) if veth_missing(&e) => return common::kernel_lacks(&format!("no veth: {e}")),
            Err(Error::Network(NetworkError::Veth(e)))
                if e.op == NetOp::CreateBridge && e.errno == Errno::EOPNOTSUPP =>
            {
                return common::kernel_lacks(&format!("no bridge: {e}"))
            }
            other => other.unwrap(),
        };
        let listing = isobox_chain();
        assert!(listing.contains(&format!("oifname != \"{bridge}\" masquerade")), "{listing}");
        let on = |link: &str, what: &str| {
            std::fs::read_to_string(format!("/proc/sys/net/ipv4/conf/{link}/{what}")).unwrap().trim().to_owned()
        };
        assert_eq!((on(&bridge, "forwarding"), on(&bridge, "rp_filter")), ("1".into(), "1".into()));
        // A second sandbox on the bridge gets out with the host's outside address as source.
        let second = bridged_nat_sandbox(&bridge, 3);
        assert_eq!(ask_outside(&second).as_deref(), Some("10.232.0.1"));
        first.kill().unwrap();
        first.wait().unwrap();
        assert_eq!(isobox_chain_soon(), "", "rules and table gone with the last sandbox");
        assert_no_port_or_bridge(&bridge);
    });
}

#[test]
/// 300, not 1000: a NAT spawn costs ~60-80 ms here (three nft runs); the 1000 bridge spawns
/// without NAT are in `tests/network_bridge.rs`, the 1000 NAT ones above.
fn three_hundred_nat_spawns_on_a_bridge_leave_no_rule_port_bridge_or_link() {
    if !require_tools() {
        return;
    }
    with_topology(true, || {
        let bridge = format!("ibm{}", std::process::id());
        let nat = bridged_nat_sandbox(&bridge, 5);
        let started = Instant::now();
        let n = common::spawns(300);
        for i in 0..n {
            match nat.status(&cmd("/bin/true", &[])) {
                Err(e) if i == 0 && veth_missing(&e) => return common::kernel_lacks(&format!("no veth: {e}")),
                other => assert!(other.unwrap().success(), "spawn {i}"),
            }
        }
        eprintln!("{n} NAT spawns on a bridge in {:?}", started.elapsed());
        assert_eq!(isobox_chain_soon(), "", "a rule or the table left after {n} spawns");
        assert_no_port_or_bridge(&bridge);
    });
}
