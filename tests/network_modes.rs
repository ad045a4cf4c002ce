//! Network modes: the host's network, loopback only, a joined namespace and a veth pair.
//! Root tests run the spawning thread inside network namespaces they create (so the "host
//! side" of a veth is such a namespace, never the host's) with 10.x addresses only; a
//! kernel without veth is a printed skip.
mod common;
#[path = "common/net.rs"]
mod net;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{cmd, full, is_root, require_root, require_userns, sandbox, sh};
use isobox::{ConfigError, Error, NetOp, Network, NetworkConfigError, NetworkError, Sandbox, Stdio, Veth};
use net::{in_new_netns, links_here, thread_netns};
use nix::errno::Errno;

/// `net:[inode]` as readlink shows it.
fn ns_link(ino: u64) -> String {
    format!("net:[{ino}]")
}

fn host_veths_here() -> Vec<String> {
    links_here().into_iter().filter(|l| l.starts_with("ibx")).collect()
}

/// Waits up to 2 s for no `ibx*` link to be left in this thread's namespace.
fn assert_no_host_veth_left() {
    let deadline = Instant::now() + Duration::from_secs(2);
    while !host_veths_here().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(host_veths_here(), Vec::<String>::new(), "host-side veths left behind");
}

fn veth(last: u8) -> Veth {
    Veth::new(Ipv4Addr::new(10, 231, last, 2), Ipv4Addr::new(10, 231, last, 1), 24)
}

fn veth_sandbox(v: Veth) -> Sandbox {
    sandbox(|b| {
        b.network(Network::Veth(v));
    })
}

/// Whether this kernel makes veth pairs (tried with a spawn on the calling thread, which must
/// be in a test's namespace); else [`common::kernel_lacks`]: not a privilege, a kernel
/// without the veth module loaded.
fn require_veth() -> bool {
    match veth_sandbox(veth(250)).status(&cmd("/bin/true", &[])) {
        Ok(report) => {
            assert!(report.success(), "{report}");
            true
        }
        Err(Error::Network(NetworkError::Veth(e))) if e.op == NetOp::CreateVeth && e.errno == Errno::EOPNOTSUPP => {
            common::kernel_lacks(&format!("this kernel has no veth (module not loaded): {e}"));
            false
        }
        Err(e) => panic!("probing veth: {e}"),
    }
}

#[test]
fn rootless_host_network_is_the_spawning_threads_namespace() {
    if !require_userns() {
        return;
    }
    // The mode wins over the NET bit.
    let host = sandbox(|b| {
        b.namespaces(full() | isobox::Namespaces::NET).network(Network::Host);
    });
    assert!(!host.namespaces().contains(isobox::Namespaces::NET));
    assert_eq!(sh(&host, "readlink /proc/self/ns/net").trim(), ns_link(thread_netns()));
    let inside = sh(&host, "cat /proc/net/dev");
    for name in links_here() {
        assert!(inside.contains(&format!("{name}:")), "{name} not seen inside:\n{inside}");
    }
}

#[test]
fn rootless_loopback_is_a_namespace_of_its_own_with_lo_up() {
    if !require_userns() {
        return;
    }
    let by_mode = sandbox(|b| {
        b.network(Network::Loopback);
    });
    let by_bit = sandbox(|b| {
        b.namespaces(full() | isobox::Namespaces::NET);
    });
    for sandbox in [by_mode, by_bit] {
        assert!(sandbox.namespaces().contains(isobox::Namespaces::NET));
        let out =
            sh(&sandbox, "readlink /proc/self/ns/net; tail -n +3 /proc/net/dev | cut -d: -f1; grep -c . /proc/net/dev");
        let lines: Vec<&str> = out.lines().map(str::trim).collect();
        assert_ne!(lines[0], ns_link(thread_netns()), "{out}");
        assert_eq!(lines[1], "lo", "only loopback:\n{out}");
        assert_eq!(lines.last(), Some(&"3"), "one interface:\n{out}");
    }
    let lo = sandbox(|b| {
        b.network(Network::Loopback);
    });
    let up = sh(&lo, "/usr/sbin/ip -o link show lo");
    assert!(up.contains(",UP"), "{up}");
}

#[test]
fn rootless_join_needs_privilege_and_root_joins() {
    if !require_userns() {
        return;
    }
    let own: OwnedFd = std::fs::File::open("/proc/thread-self/ns/net").unwrap().into();
    let joined = sandbox(|b| {
        b.network(Network::Join(Arc::new(own)));
    });
    let before = thread_netns();
    match joined.output(&cmd("/bin/readlink", &["/proc/self/ns/net"])) {
        Ok(out) => {
            assert!(is_root(), "an unprivileged caller joined a namespace");
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), ns_link(before));
        }
        Err(Error::Network(NetworkError::Join { errno })) => {
            assert!(!is_root(), "root could not join: {errno}");
            assert_eq!(errno, Errno::EPERM);
            let text = NetworkError::Join { errno }.to_string();
            assert!(text.contains("CAP_SYS_ADMIN"), "{text}");
        }
        Err(e) => panic!("{e}"),
    }
    assert_eq!(thread_netns(), before, "the spawning thread did not go back");
}

#[test]
fn join_puts_the_sandbox_and_its_exec_in_a_namespace_the_test_made() {
    if !require_root() {
        return;
    }
    let tag = format!("ibt{}", std::process::id() % 100_000);
    // A namespace made on a thread of its own, holding a veth pair the host does not have.
    let (fd, ino, veth): (OwnedFd, u64, bool) = in_new_netns(|| {
        let made = std::process::Command::new("ip")
            .args(["link", "add", &format!("{tag}a"), "type", "veth", "peer", "name", &format!("{tag}b")])
            .status();
        let veth = made.is_ok_and(|s| s.success());
        if !veth {
            eprintln!("no veth pair in the joined namespace (ip or the veth driver missing): inode compared only");
        }
        (std::fs::File::open("/proc/thread-self/ns/net").unwrap().into(), thread_netns(), veth)
    });
    let host = thread_netns();
    assert_ne!(host, ino);
    let joined = sandbox(|b| {
        b.network(Network::Join(Arc::new(fd)));
    });
    let mut sleeper = cmd("/bin/sleep", &["10"]);
    sleeper.stdout(Stdio::null());
    let child = joined.spawn(&sleeper).unwrap();
    assert_eq!(thread_netns(), host, "the spawning thread stayed in the joined namespace");
    let mut look = cmd("/bin/sh", &["-c", "readlink /proc/self/ns/net; cat /proc/net/dev"]);
    look.stdout(Stdio::piped());
    let out = child.exec(&look).unwrap().wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.starts_with(&ns_link(ino)), "exec'd command not in the joined namespace:\n{text}");
    let first = sh(&joined, "readlink /proc/self/ns/net; cat /proc/net/dev");
    assert!(first.starts_with(&ns_link(ino)), "{first}");
    if veth {
        assert!(first.contains(&format!("{tag}a:")) && text.contains(&format!("{tag}b:")), "{first}");
    }
    assert!(!links_here().iter().any(|l| l.starts_with(&tag)), "the host got the test's links");
    assert_eq!(thread_netns(), host);
    drop(child);
}

#[test]
fn rootless_veth_for_a_caller_without_root_is_refused_with_a_hint() {
    let built = Sandbox::builder().namespaces(full()).network(Network::Veth(veth(1))).build();
    if is_root() {
        assert!(built.is_ok(), "{:?}", built.err());
        return;
    }
    match built {
        Err(Error::Config(ConfigError::Network(NetworkConfigError::VethNeedsRoot))) => {}
        other => panic!("expected VethNeedsRoot, got {other:?}"),
    }
    let text = NetworkConfigError::VethNeedsRoot.to_string();
    assert!(text.contains("CAP_NET_ADMIN") && text.contains("user-mode"), "{text}");
}

#[test]
fn rootless_bad_veth_addresses_are_refused_at_build() {
    for (v, what) in [
        (Veth::new(Ipv4Addr::new(10, 231, 0, 2), Ipv4Addr::new(10, 231, 0, 2), 24), "same"),
        (Veth::new(Ipv4Addr::new(10, 231, 0, 2), Ipv4Addr::new(10, 232, 0, 1), 24), "subnet"),
        (Veth::new(Ipv4Addr::new(10, 231, 0, 2), Ipv4Addr::new(10, 231, 0, 1), 32), "prefix"),
    ] {
        let err = Sandbox::builder().network(Network::Veth(v)).build().unwrap_err();
        let Error::Config(ConfigError::Network(e)) = err else { panic!("{what}: {err}") };
        if is_root() {
            assert_ne!(e, NetworkConfigError::VethNeedsRoot, "{what}");
        }
    }
}

#[test]
fn veth_carries_tcp_both_ways_and_leaves_nothing_after_wait() {
    if !require_root() {
        return;
    }
    in_new_netns(|| {
        if !require_veth() {
            return;
        }
        let sandbox = veth_sandbox(veth(7));
        let script = "import socket\n\
            s = socket.socket(); s.bind(('10.231.7.2', 7007)); s.listen(1)\n\
            print('ready', flush=True)\n\
            c, peer = s.accept(); data = c.recv(16)\n\
            c.sendall(data.upper() + b' from ' + peer[0].encode()); c.close()\n\
            import os; print(open('/proc/net/route').read().split('\\n')[1].split()[0:3], flush=True)\n";
        let mut py = cmd("/usr/bin/python3", &["-c", script]);
        py.stdout(Stdio::piped());
        let mut child = sandbox.spawn(&py).unwrap();
        let name = child.host_veth().expect("a host-side veth").to_string();
        assert!(name.starts_with("ibx") && name.len() <= 15, "{name}");
        assert!(links_here().contains(&name), "{name} not in the spawning thread's namespace");
        // No IPv6 on the host side: a sandbox's router advertisements cannot route the host.
        if let Ok(off) = std::fs::read_to_string(format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6")) {
            assert_eq!(off.trim(), "1", "IPv6 on {name}");
        }
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line, "ready\n");
        let to: SocketAddr = "10.231.7.2:7007".parse().unwrap();
        let mut conn = TcpStream::connect_timeout(&to, Duration::from_secs(2)).unwrap();
        conn.write_all(b"ping").unwrap();
        let mut reply = String::new();
        conn.read_to_string(&mut reply).unwrap();
        assert_eq!(reply, "PING from 10.231.7.1");
        let mut rest = String::new();
        out.read_to_string(&mut rest).unwrap();
        // The default route: destination 0, via eth0, gateway 10.231.7.1 (little-endian hex).
        assert!(rest.contains("'eth0', '00000000', '0107E70A'"), "{rest}");
        assert!(child.wait().unwrap().success());
        assert_eq!(child.host_veth(), None);
        assert_no_host_veth_left();
    });
}

#[test]
fn veth_failed_spawns_and_a_thousand_spawns_leave_no_link() {
    if !require_root() {
        return;
    }
    in_new_netns(|| {
        if !require_veth() {
            return;
        }
        let sandbox = Sandbox::builder().network(Network::Veth(veth(8).default_route(false))).build().unwrap();
        let missing = sandbox.spawn(&cmd("/nonexistent/program", &[])).unwrap_err();
        assert!(matches!(missing, Error::ProgramNotFound { .. }), "{missing}");
        assert_no_host_veth_left();
        let started = Instant::now();
        let n = common::spawns(1000);
        for i in 0..n {
            let report = sandbox.status(&cmd("/bin/true", &[])).unwrap();
            assert!(report.success(), "spawn {i}: {report}");
        }
        eprintln!("{n} veth spawns in {:?}", started.elapsed());
        assert_no_host_veth_left();
    });
}

#[test]
fn veth_sweep_removes_a_dead_owners_leftover_and_keeps_a_live_ones() {
    if !require_root() {
        return;
    }
    in_new_netns(|| {
        // Above pid_max (2^22): no process has this pid. pid 1 lives. The aliases say which
        // isobox process made them, in which pid namespace: one of another's is not judged.
        let pid_ns = std::fs::metadata("/proc/self/ns/pid").unwrap().ino();
        let init_start = std::fs::read_to_string("/proc/1/stat").unwrap();
        let init_start = init_start.rsplit_once(')').unwrap().1.split_whitespace().nth(19).unwrap().to_string();
        let dead = format!("ibx{}-0", to_base36(4_194_305));
        let live = "ibx1-0".to_string();
        let elsewhere = format!("ibx{}-1", to_base36(4_194_305));
        let made = [
            (&dead, "ibtpeer0", format!("isobox {pid_ns} 4194305 5")),
            (&live, "ibtpeer1", format!("isobox {pid_ns} 1 {init_start}")),
            (&elsewhere, "ibtpeer2", format!("isobox {} 4194305 5", pid_ns + 1)),
        ];
        for (name, peer, alias) in &made {
            if !make_leftover(name, peer, alias) {
                return;
            }
        }
        assert!(links_here().contains(&dead));
        // The first veth spawn of this process in this namespace sweeps it.
        let report = veth_sandbox(veth(9)).status(&cmd("/bin/true", &[])).unwrap();
        assert!(report.success());
        let left = links_here();
        assert!(!left.contains(&dead), "the dead owner's leftover stayed: {left:?}");
        assert!(left.contains(&live), "the live owner's link was swept: {left:?}");
        assert!(left.contains(&elsewhere), "another pid namespace's link was swept: {left:?}");
    });
}

/// Makes the veth pair `name`/`peer` in this thread's namespace with `alias` on `name`, as a
/// dead isobox process would have left it; else [`common::kernel_lacks`].
fn make_leftover(name: &str, peer: &str, alias: &str) -> bool {
    let ip = |args: &[&str]| std::process::Command::new("ip").args(args).status().is_ok_and(|s| s.success());
    let made =
        ip(&["link", "add", name, "type", "veth", "peer", "name", peer]) && ip(&["link", "set", name, "alias", alias]);
    if !made {
        common::kernel_lacks("could not make a veth leftover with ip (ip or the veth driver missing)");
    }
    made
}

#[test]
fn veth_sweep_runs_in_a_new_namespace_that_has_an_old_ones_inode() {
    if !require_root() {
        return;
    }
    // The kernel gives a freed namespace's inode to the next one it makes: a sweep done once
    // per inode skipped that next namespace (CI saw it when tests ran one after another).
    let pid_ns = std::fs::metadata("/proc/self/ns/pid").unwrap().ino();
    let dead = format!("ibx{}-0", to_base36(4_194_305));
    let mut swept_in = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let stayed = in_new_netns(|| {
            let ino = thread_netns();
            if !swept_in.contains(&ino) {
                // This spawn sweeps the namespace; the next one with its inode must be swept again.
                assert!(veth_sandbox(veth(11)).status(&cmd("/bin/true", &[])).unwrap().success());
                swept_in.push(ino);
                return None;
            }
            if !make_leftover(&dead, "ibtpeer0", &format!("isobox {pid_ns} 4194305 5")) {
                return Some(None);
            }
            assert!(veth_sandbox(veth(11)).status(&cmd("/bin/true", &[])).unwrap().success());
            Some(Some(links_here().contains(&dead)))
        });
        match stayed {
            Some(None) => return, // no veth here: printed
            Some(Some(stayed)) => return assert!(!stayed, "a namespace with a swept one's inode was not swept"),
            // The kernel frees a namespace (and its inode) from a work queue, a little later.
            // Not too often: each try leaves the kernel a namespace to free.
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    common::kernel_lacks(&format!("no new namespace got an inode of the {} before it in 10 s", swept_in.len()));
}

fn to_base36(mut n: u64) -> String {
    let mut out = Vec::new();
    while n > 0 {
        out.push(b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap()
}

#[test]
fn veth_pools_are_refused_and_two_live_spawns_of_one_veth_are_too() {
    if !require_root() {
        return;
    }
    in_new_netns(|| {
        if !require_veth() {
            return;
        }
        let sb = veth_sandbox(veth(10));
        let err = sb.pool(2).unwrap_err();
        assert!(matches!(err, Error::Pool(isobox::PoolError::VethAddresses)), "{err}");
        // One at a time is fine; two at once would share the host side's address and route.
        let mut first = sb.spawn(&cmd("/bin/sleep", &["100"])).unwrap();
        let second = sb.spawn(&cmd("/bin/true", &[])).unwrap_err();
        assert!(matches!(second, Error::Network(NetworkError::AddressInUse { .. })), "{second}");
        first.kill().unwrap();
        first.wait().unwrap();
        // Freed with the first: the next spawn of the same addresses is answered by its own pair.
        let script = "import socket\n\
            s = socket.socket(); s.bind(('10.231.10.2', 7010)); s.listen(1); print('ready', flush=True)\n\
            c, _ = s.accept(); c.sendall(b'second'); c.close()\n";
        let mut py = cmd("/usr/bin/python3", &["-c", script]);
        py.stdout(Stdio::piped());
        let mut again = sb.spawn(&py).unwrap();
        let mut line = String::new();
        BufReader::new(again.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let started = Instant::now();
        let to: SocketAddr = "10.231.10.2:7010".parse().unwrap();
        let mut conn = TcpStream::connect_timeout(&to, Duration::from_secs(5)).unwrap();
        let mut got = String::new();
        conn.read_to_string(&mut got).unwrap();
        assert_eq!(got, "second");
        assert!(
            started.elapsed() < Duration::from_millis(900),
            "no SYN resent to the old pair: {:?}",
            started.elapsed()
        );
        assert!(again.wait().unwrap().success());
        assert_no_host_veth_left();
    });
}

#[test]
fn veth_is_deleted_when_a_process_left_behind_holds_the_namespace() {
    if !require_root() {
        return;
    }
    in_new_netns(|| {
        if !require_veth() {
            return;
        }
        // No pid namespace, no cgroup: the background sleep outlives the first process and
        // keeps the sandbox's network namespace (and so the pair) alive; isobox deletes it.
        let sandbox =
            Sandbox::builder().namespaces(isobox::Namespaces::USER).network(Network::Veth(veth(11))).build().unwrap();
        let mut script = cmd("/bin/sh", &["-c", "/bin/sleep 4 </dev/null >/dev/null 2>&1 &"]);
        script.stdout(Stdio::null());
        let mut child = sandbox.spawn(&script).unwrap();
        let name = child.host_veth().unwrap().to_string();
        assert!(child.wait().unwrap().success());
        assert!(links_here().contains(&name), "{name} gone at once: the check below would prove nothing");
        assert_no_host_veth_left();
    });
}
