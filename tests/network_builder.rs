//! The user-mode and veth networks through the builder: the helper started for each spawn
//! before the program runs, a port forward reaching a server the program runs, the helper
//! gone after `wait`; veth ports carried by isobox's threads; refusals at `build()`. Only
//! loopback, 10.x addresses inside namespaces the tests create, and the sandbox's own.
mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use common::{cmd, full, require_root, sandbox};
use isobox::{
    ConfigError, Error, NetOp, Network, NetworkConfigError, NetworkError, PortForward, Sandbox, Stdio, UserNet,
    UserNetHelper, Veth,
};
use nix::errno::Errno;

/// A program that listens on `addr`:`port`, says `ready` and its eth0 address, and greets one
/// connection.
fn greeter(addr: &str, port: u16) -> isobox::Command {
    let script = format!(
        "import socket, fcntl, struct\n\
         s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         s.bind(('{addr}', {port})); s.listen(1)\n\
         print('ready', open('/proc/net/route').read().count('eth0') > 0, flush=True)\n\
         c, _ = s.accept(); c.sendall(b'hello from the sandbox'); c.close()\n"
    );
    let mut py = cmd("/usr/bin/python3", &["-c", &script]);
    py.stdout(Stdio::piped());
    py
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port()
}

/// Live processes whose parent is this process and whose name starts with `name` (pasta runs
/// as `passt.avx2` and the like).
fn our_children_named(name: &str) -> Vec<u32> {
    let me = std::process::id().to_string();
    let pids = std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok());
    pids.filter(|p| {
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        let comm = stat
            .split_once('(')
            .and_then(|(_, r)| r.rsplit_once(')'))
            .map(|(c, rest)| (c.to_string(), rest.to_string()));
        let alive = |rest: &str| !rest.trim_start().starts_with('Z');
        comm.is_some_and(|(c, rest)| {
            c.starts_with(name) && alive(&rest) && rest.split_whitespace().nth(1) == Some(me.as_str())
        })
    })
    .collect()
}

/// Children of this process named `name` that exited and were not reaped.
fn zombie_children_named(name: &str) -> Vec<u32> {
    let me = std::process::id().to_string();
    let pids = std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok());
    pids.filter(|p| {
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        let Some((_, rest)) = stat.split_once('(') else { return false };
        let Some((comm, rest)) = rest.rsplit_once(')') else { return false };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        comm.starts_with(name) && fields.first() == Some(&"Z") && fields.get(1) == Some(&me.as_str())
    })
    .collect()
}

fn read_greeting(port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpStream::connect((Ipv4Addr::LOCALHOST, port)) {
            Ok(mut c) => {
                let mut got = String::new();
                c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let _ = c.read_to_string(&mut got);
                if !got.is_empty() || Instant::now() > deadline {
                    return got;
                }
            }
            Err(e) if Instant::now() > deadline => panic!("connecting to 127.0.0.1:{port}: {e}"),
            Err(_) => {}
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn user_mode_forward(helper: UserNetHelper) {
    if !common::require_user_net(helper) {
        return;
    }
    let port = free_port();
    let net = UserNet::new(helper).port(PortForward::tcp(port, 8080));
    let sb = sandbox(|b| {
        b.network(Network::UserMode(net));
    });
    let mut child = sb.spawn(&greeter("0.0.0.0", 8080)).unwrap();
    let name = if helper == UserNetHelper::Pasta { "pas" } else { helper.program() };
    assert_eq!(our_children_named(name).len(), 1, "one {name} for the sandbox");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready True\n", "eth0 is up when the program starts");
    assert_eq!(read_greeting(port), "hello from the sandbox");
    assert!(child.wait().unwrap().success());
    // Killed at once, reaped on isobox's reaper thread (its tap's teardown takes a while).
    let end = Instant::now() + Duration::from_secs(5);
    // Dead first, then reaped (the reaper looks every 5 ms): wait for both.
    while !(our_children_named(name).is_empty() && zombie_children_named(name).is_empty()) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(our_children_named(name), Vec::<u32>::new(), "{name} left after wait");
    assert_eq!(zombie_children_named(name), Vec::<u32>::new(), "{name} not reaped after wait");
}

#[test]
fn rootless_user_mode_through_slirp4netns_forwards_a_port_and_ends_with_the_sandbox() {
    user_mode_forward(UserNetHelper::Slirp4netns);
}

#[test]
fn rootless_user_mode_through_pasta_forwards_a_port_and_ends_with_the_sandbox() {
    user_mode_forward(UserNetHelper::Pasta);
}

#[test]
fn rootless_what_a_network_cannot_do_is_refused_at_build() {
    let udp =
        Veth::new(Ipv4Addr::new(10, 234, 0, 2), Ipv4Addr::new(10, 234, 0, 1), 24).port(PortForward::udp(5353, 53));
    let err = Sandbox::builder().namespaces(full()).network(Network::Veth(udp)).build().unwrap_err();
    if common::is_root() {
        assert!(matches!(err, Error::Config(ConfigError::Network(NetworkConfigError::VethPort { .. }))), "{err}");
    }
    let no_user = Sandbox::builder()
        .namespaces(isobox::Namespaces::MOUNT | isobox::Namespaces::PID)
        .network(Network::UserMode(UserNet::slirp4netns()))
        .build()
        .unwrap_err();
    assert!(
        matches!(no_user, Error::Config(ConfigError::Network(NetworkConfigError::UserModeNeedsUserNamespace))),
        "{no_user}"
    );
    let zero = UserNet::slirp4netns().port(PortForward::tcp(0, 80));
    let err = Sandbox::builder().namespaces(full()).network(Network::UserMode(zero)).build().unwrap_err();
    assert!(matches!(err, Error::Config(ConfigError::Network(NetworkConfigError::UserNet(_)))), "{err}");
}

#[test]
fn veth_ports_are_carried_to_the_sandbox_and_closed_after_wait() {
    if !require_root() {
        return;
    }
    let host = std::fs::metadata("/proc/thread-self/ns/net").unwrap().ino();
    std::thread::scope(|s| {
        s.spawn(|| {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            assert_ne!(std::fs::metadata("/proc/thread-self/ns/net").unwrap().ino(), host);
            let up = std::process::Command::new("ip").args(["link", "set", "lo", "up"]).status().unwrap();
            assert!(up.success(), "lo up in the test's namespace");
            let port = free_port();
            let veth = Veth::new(Ipv4Addr::new(10, 235, 0, 2), Ipv4Addr::new(10, 235, 0, 1), 24)
                .port(PortForward::tcp(port, 7300));
            let sb = sandbox(|b| {
                b.network(Network::Veth(veth));
            });
            let mut child = match sb.spawn(&greeter("10.235.0.2", 7300)) {
                Err(Error::Network(NetworkError::Veth(e)))
                    if e.op == NetOp::CreateVeth && e.errno == Errno::EOPNOTSUPP =>
                {
                    return common::kernel_lacks(&format!("this kernel has no veth (module not loaded): {e}"));
                }
                other => other.unwrap(),
            };
            let mut out = BufReader::new(child.stdout.take().unwrap());
            let mut line = String::new();
            out.read_line(&mut line).unwrap();
            assert_eq!(line, "ready True\n");
            assert_eq!(read_greeting(port), "hello from the sandbox");
            assert!(child.wait().unwrap().success());
            assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(), "the port is closed after wait");
            // A port that is taken fails the spawn, with the address named.
            let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
            let port = taken.local_addr().unwrap().port();
            let veth = Veth::new(Ipv4Addr::new(10, 235, 1, 2), Ipv4Addr::new(10, 235, 1, 1), 24)
                .port(PortForward::tcp(port, 7300));
            let sb = sandbox(|b| {
                b.network(Network::Veth(veth));
            });
            let err = sb.spawn(&cmd("/bin/true", &[])).unwrap_err();
            assert!(matches!(err, Error::Network(NetworkError::Publish { .. })), "{err}");
        })
        .join()
        .unwrap()
    });
}
