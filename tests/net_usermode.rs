//! User-mode networking: pasta and slirp4netns started for a live sandbox's pid, each attempt
//! made from inside the sandbox (`Child::exec`), the host checked afterwards. Only loopback
//! and the sandbox's own 10.0.2.x addresses are used.
mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use isobox::{Child, Command, Namespaces, PortForward, Sandbox, Stdio, UserNet, UserNetError, UserNetHelper};

/// Whether the helper and /dev/net/tun are there for this user (CI's setup-host provides both).
fn require_helper(helper: UserNetHelper) -> bool {
    common::require_user_net(helper)
}

/// A sandbox with its own user and network namespaces, running a long sleep.
fn sleeper() -> Child {
    let sb = Sandbox::builder().namespaces(common::full() | Namespaces::NET).build().expect("valid");
    let mut cmd = Command::new("/bin/sleep");
    cmd.arg("100");
    sb.spawn(&cmd).expect("spawn the sleep")
}

/// Runs `script` inside `first`'s sandbox; returns stdout and stderr together.
fn inside(first: &Child, script: &str) -> String {
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", script]).stdout(Stdio::piped()).stderr(Stdio::piped());
    let out = first.exec(&cmd).unwrap_or_else(|e| panic!("exec `{script}`: {e}")).wait_with_output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A TCP server on the host's 127.0.0.1 that greets and counts every connection.
struct HostServer {
    port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl HostServer {
    fn new() -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let (accepted, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (count, halt) = (accepted.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while halt.load(Ordering::SeqCst) == 0 {
                match listener.accept() {
                    Ok((mut s, _)) => {
                        count.fetch_add(1, Ordering::SeqCst);
                        let _ = s.write_all(b"hello-host\n");
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Self { port, accepted, stop, thread: Some(thread) }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for HostServer {
    fn drop(&mut self) {
        self.stop.store(1, Ordering::SeqCst);
        let _ = self.thread.take().map(JoinHandle::join);
    }
}

/// A host port free right now.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port()
}

/// Whether a process with this pid runs (a zombie counts as gone).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.rsplit_once(')').unwrap().1.starts_with(" Z"))
}

/// Helper processes on the host serving the sandbox `pid` (their argv names it).
fn helpers_of(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(other) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let argv: Vec<_> = cmdline.split(|b| *b == 0).map(String::from_utf8_lossy).collect();
        let helper = argv[0].ends_with("pasta") || argv[0].ends_with("slirp4netns");
        if helper && argv.iter().any(|a| a == &pid.to_string()) && running(other) {
            found.push(other);
        }
    }
    found
}

/// Reads the greeting of the sandbox's server through the host port, retrying while it starts.
fn greeting_through(port: u16) -> String {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let mut text = String::new();
        if let Ok(mut s) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) {
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let _ = s.read_to_string(&mut text);
        }
        if !text.is_empty() || Instant::now() > end {
            return text;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The sandbox's network, the host's loopback kept out by default, and a port forward in.
fn network_and_forward(net: UserNet) {
    let first = sleeper();
    let host = HostServer::new();
    let port = free_port();
    let helper = net.mtu(1500).port(PortForward::tcp(port, 8080)).start(first.id()).expect("start the helper");
    // The interface, its address, MTU and the default route, as soon as start returns.
    let out = inside(&first, "busybox ip -4 addr show eth0; busybox ip route");
    assert!(out.contains("inet 10.0.2.100/24"), "{out}");
    assert!(out.contains("mtu 1500") && out.contains("default via 10.0.2.2 dev eth0"), "{out}");
    // The sandbox's own 127.0.0.1 does not lead to the host's (pasta's -T auto would).
    let out =
        inside(&first, &format!("busybox timeout 6 busybox nc -w 2 127.0.0.1 {} </dev/null; echo done", host.port));
    assert!(!out.contains("hello-host") && out.contains("done"), "{out}");
    if helper.helper() == UserNetHelper::Slirp4netns {
        // Nor does the gateway. (pasta's --no-map-gw would send this to a real 10.0.2.2 on the
        // host's network, which tests must not reach, so only slirp4netns, which refuses it.)
        let out =
            inside(&first, &format!("busybox timeout 6 busybox nc -w 2 10.0.2.2 {} </dev/null; echo done", host.port));
        assert!(!out.contains("hello-host") && out.contains("done"), "{out}");
    }
    assert_eq!(host.accepted(), 0, "a connection from the sandbox reached the host's loopback");
    // A server inside (its commands have no capability: an unprivileged port) reached through the host port.
    let mut server = Command::new("/bin/sh");
    server.args(["-c", "echo hello-sandbox | busybox nc -l -p 8080"]).stdout(Stdio::null()).stderr(Stdio::null());
    let server = first.exec(&server).unwrap();
    assert_eq!(greeting_through(port), "hello-sandbox\n");
    drop(server);
    let pid = helper.pid();
    assert!(running(pid));
    drop(helper);
    // Killed at once, reaped on isobox's reaper thread (its tap's teardown takes a while).
    let end = Instant::now() + Duration::from_secs(5);
    while running(pid) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!running(pid), "the helper {pid} outlived its handle");
    assert!(helpers_of(first.id()).is_empty());
}

/// With the loosening flag, the gateway leads to the host's loopback.
fn host_loopback_when_allowed(net: UserNet) {
    let first = sleeper();
    let host = HostServer::new();
    let _helper = net.host_loopback(true).start(first.id()).expect("start the helper");
    // Our side half-closes only after the host's greeting: pasta 2023-03 leaves a connection
    // hanging whose guest side shuts down its writes first (the timeout only bounds that).
    let out =
        inside(&first, &format!("busybox usleep 300000 | busybox timeout 6 busybox nc -w 3 10.0.2.2 {}", host.port));
    assert!(out.contains("hello-host"), "{out}");
    assert!(host.accepted() >= 1);
}

#[test]
fn rootless_pasta_network_and_port_forward() {
    if require_helper(UserNetHelper::Pasta) {
        network_and_forward(UserNet::pasta());
    }
}

#[test]
fn rootless_slirp4netns_network_and_port_forward() {
    if require_helper(UserNetHelper::Slirp4netns) {
        network_and_forward(UserNet::slirp4netns());
    }
}

#[test]
fn rootless_pasta_host_loopback_when_allowed() {
    if require_helper(UserNetHelper::Pasta) {
        host_loopback_when_allowed(UserNet::pasta());
    }
}

#[test]
fn rootless_slirp4netns_host_loopback_when_allowed() {
    if require_helper(UserNetHelper::Slirp4netns) {
        host_loopback_when_allowed(UserNet::slirp4netns());
    }
}

/// A helper that fails after it started (its host port taken) is killed, reaped, reported.
#[test]
fn rootless_a_failed_start_leaves_no_helper() {
    for helper in [UserNetHelper::Pasta, UserNetHelper::Slirp4netns] {
        if !require_helper(helper) {
            return;
        }
        let first = sleeper();
        let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = taken.local_addr().unwrap().port();
        let err = UserNet::new(helper).port(PortForward::tcp(port, 80)).start(first.id()).unwrap_err();
        match (&err, helper) {
            (UserNetError::Exited { .. }, UserNetHelper::Pasta) => {}
            (UserNetError::PortRefused { forward, .. }, UserNetHelper::Slirp4netns) => {
                assert_eq!(forward.host_port, port)
            }
            _ => panic!("{helper}: unexpected error {err:?}"),
        }
        assert!(err.to_string().contains(helper.program()), "{err}");
        assert!(helpers_of(first.id()).is_empty(), "{helper} left running after {err}");
    }
}

#[test]
fn rootless_a_missing_helper_is_a_typed_error() {
    let err = UserNet::slirp4netns().program("/nonexistent/isobox-slirp4netns").start(1).unwrap_err();
    assert!(matches!(err, UserNetError::NotInstalled { helper: UserNetHelper::Slirp4netns, .. }), "{err:?}");
    assert!(err.to_string().contains("apt-get install slirp4netns"), "{err}");
}

#[test]
fn rootless_an_invalid_forward_is_refused_before_anything_starts() {
    let err = UserNet::pasta().port(PortForward::udp(53, 0)).start(1).unwrap_err();
    assert!(matches!(err, UserNetError::ZeroPort { .. }), "{err:?}");
    let twice = UserNet::pasta().port(PortForward::tcp(8080, 80)).port(PortForward::tcp(8080, 81));
    assert!(matches!(twice.start(1), Err(UserNetError::DuplicatePort { .. })));
}

/// The part of `rootless_helpers_die_with_the_parent` run in a process of its own: starts
/// both helpers, prints their pids, and waits to be killed.
#[test]
#[ignore = "run by rootless_helpers_die_with_the_parent"]
fn helpers_of_a_killed_parent() {
    let first = sleeper();
    let pasta = UserNet::pasta().start(first.id()).expect("pasta");
    let second = sleeper();
    let slirp = UserNet::slirp4netns().port(PortForward::tcp(free_port(), 80)).start(second.id()).expect("slirp");
    println!("HELPERS {} {}", pasta.pid(), slirp.pid());
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn rootless_helpers_die_with_the_parent() {
    if !(require_helper(UserNetHelper::Pasta) && require_helper(UserNetHelper::Slirp4netns)) {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let mut parent = std::process::Command::new(exe)
        .args(["--exact", "helpers_of_a_killed_parent", "--ignored", "--nocapture", "--test-threads=1"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = parent.stdout.take().unwrap();
    let mut text = Vec::new();
    let mut byte = [0u8; 1];
    while !(String::from_utf8_lossy(&text).contains("HELPERS ") && text.ends_with(b"\n")) {
        if out.read(&mut byte).unwrap() == 0 {
            panic!("the parent ended early: {}", String::from_utf8_lossy(&text));
        }
        text.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&text).into_owned();
    let line = text.rsplit_once("HELPERS ").unwrap().1.trim();
    let pids: Vec<u32> = line.split_whitespace().map(|p| p.parse().unwrap()).collect();
    assert!(pids.iter().all(|p| running(*p)), "{line}");
    parent.kill().unwrap();
    parent.wait().unwrap();
    let end = Instant::now() + Duration::from_secs(5);
    while pids.iter().any(|p| running(*p)) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!pids.iter().any(|p| running(*p)), "a helper outlived its killed parent: {line}");
}
