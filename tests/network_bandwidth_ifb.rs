//! The life of the ifb that carries a veth's egress limit on the host side (a sandbox keeping
//! `CAP_NET_ADMIN`): made with the pair as `ibx<pid>_<n>`, marked with the owner's alias, and
//! gone after the `Child` is reaped, after a failed spawn, after 200 spawns, and after its
//! owner is SIGKILLed (swept by the next isobox process). The host side is a network
//! namespace the test made (10.236.x only).
mod common;
#[path = "common/net.rs"]
mod net;

use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::process::Stdio as StdStdio;
use std::time::{Duration, Instant};

use common::{cmd, require_root, sandbox};
use isobox::{Bandwidth, BandwidthError, Capabilities, Error, NetOp, Network, NetworkError, Sandbox, Veth};
use net::{ibx_left_after, in_new_netns, links_here};
use nix::errno::Errno;

/// A sandbox on 10.236.`net`.0/24 keeping `CAP_NET_ADMIN`, its egress limited.
fn limited(net: u8) -> Sandbox {
    let veth = Veth::new(Ipv4Addr::new(10, 236, net, 2), Ipv4Addr::new(10, 236, net, 1), 24)
        .bandwidth(Bandwidth::new().egress(10_000_000).ingress(10_000_000));
    sandbox(|b| {
        b.network(Network::Veth(veth)).capabilities(Capabilities::NET_ADMIN);
    })
}

/// Whether this kernel has veth, ifb and tbf (a limited spawn on the calling thread, which
/// must be in a test's namespace); else a printed skip.
fn require_kinds(sb: &Sandbox) -> bool {
    match sb.status(&cmd("/bin/true", &[])) {
        Ok(report) => {
            assert!(report.success(), "{report}");
            assert_eq!(ibx_left_after(Duration::from_secs(3)), Vec::<String>::new(), "the probe's links stayed");
            true
        }
        Err(Error::Network(NetworkError::Veth(e))) if e.op == NetOp::CreateVeth && e.errno == Errno::EOPNOTSUPP => {
            common::kernel_lacks(&format!("this kernel has no veth (module not loaded): {e}"));
            false
        }
        Err(Error::Network(NetworkError::Bandwidth(e @ BandwidthError::KernelLacks { .. }))) => {
            common::kernel_lacks(&e.to_string());
            false
        }
        Err(e) => panic!("probing veth and ifb: {e}"),
    }
}

/// `ip -o link show dev name`, if `ip` runs (in the calling thread's namespace).
fn ip_link(name: &str) -> Option<String> {
    let out = std::process::Command::new("ip").args(["-o", "link", "show", "dev", name]).output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn the_ifb_goes_after_wait_after_a_failed_spawn_and_after_200_spawns() {
    if !require_root() {
        return;
    }
    in_new_netns(|| {
        let sb = limited(1);
        if !require_kinds(&sb) {
            return;
        }
        let mut child = sb.spawn(&cmd("/bin/sleep", &["100"])).unwrap();
        let host_if = child.host_veth().unwrap().to_string();
        let ifb = host_if.replacen('-', "_", 1);
        assert!(links_here().contains(&ifb), "no ifb {ifb} next to {host_if}: {:?}", links_here());
        if let Some(link) = ip_link(&ifb) {
            let alias = format!(
                "alias isobox {} {} ",
                std::fs::metadata("/proc/self/ns/pid")
                    .map(|m| {
                        use std::os::unix::fs::MetadataExt;
                        m.ino()
                    })
                    .unwrap(),
                std::process::id()
            );
            assert!(link.contains(&alias), "the ifb is not marked as this process's: {link}");
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(ibx_left_after(Duration::from_secs(3)), Vec::<String>::new(), "left after wait");
        // A failure after the pair and its ifb were made (the child's chdir comes after).
        let mut nowhere = cmd("/bin/true", &[]);
        nowhere.current_dir("/nonexistent/dir");
        let failed = sb.spawn(&nowhere).unwrap_err();
        assert!(matches!(&failed, Error::Setup(e) if e.step == isobox::Step::Chdir), "{failed}");
        assert_eq!(ibx_left_after(Duration::from_secs(3)), Vec::<String>::new(), "left after a failed spawn");
        let started = Instant::now();
        for i in 0..200 {
            let report = sb.status(&cmd("/bin/true", &[])).unwrap();
            assert!(report.success(), "spawn {i}: {report}");
        }
        let took = started.elapsed();
        let left = ibx_left_after(Duration::from_secs(20));
        eprintln!("200 limited spawns with NET_ADMIN in {took:?}, no link left {:?} later", started.elapsed() - took);
        assert_eq!(left, Vec::<String>::new(), "left after 200 spawns");
    });
}

const ROLE: &str = "ISOBOX_TEST_IFB_ROLE";

/// Run by [`an_ifb_of_a_sigkilled_owner_is_swept_by_the_next_process`] in processes of its
/// own (`ROLE` says which): the owner of a limited sandbox, killed with SIGKILL; the next
/// isobox process, whose first veth spawn sweeps.
#[test]
#[ignore = "a helper process of an_ifb_of_a_sigkilled_owner_is_swept_by_the_next_process"]
fn ifb_helper_process() {
    match std::env::var(ROLE).as_deref() {
        Ok("owner") => {
            let child = limited(2).spawn(&cmd("/bin/sleep", &["100"])).unwrap();
            println!("ifb {}", child.host_veth().unwrap().replacen('-', "_", 1));
            std::thread::sleep(Duration::from_secs(100));
        }
        Ok("next") => {
            let veth = Veth::new(Ipv4Addr::new(10, 236, 3, 2), Ipv4Addr::new(10, 236, 3, 1), 24);
            let sb = sandbox(|b| {
                b.network(Network::Veth(veth));
            });
            assert!(sb.status(&cmd("/bin/true", &[])).unwrap().success());
            println!("spawned");
        }
        _ => eprintln!("{ROLE} unset: not run as a helper, nothing to do"),
    }
}

/// The test binary running [`ifb_helper_process`] as `role`, in the calling thread's network
/// namespace (a child process starts in its creator thread's).
fn helper(role: &str) -> std::process::Command {
    let mut helper = std::process::Command::new(std::env::current_exe().unwrap());
    helper.args(["--exact", "ifb_helper_process", "--ignored", "--nocapture", "--test-threads=1"]).env(ROLE, role);
    helper
}

/// A helper process, killed and reaped when dropped (the test failed before it did).
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn an_ifb_of_a_sigkilled_owner_is_swept_by_the_next_process() {
    if !require_root() {
        return;
    }
    in_new_netns(|| {
        if !require_kinds(&limited(4)) {
            return;
        }
        let mut owner = Killed(helper("owner").stdout(StdStdio::piped()).spawn().unwrap());
        let mut lines = BufReader::new(owner.0.stdout.take().unwrap()).lines();
        // libtest's "test ifb_helper_process ... " comes first on the line.
        let ifb = loop {
            match lines.next() {
                Some(line) => match line.unwrap().rsplit_once("ifb ") {
                    Some((_, name)) => break name.to_string(),
                    None => continue,
                },
                None => panic!("the owner ended before its spawn: {:?}", owner.0.wait()),
            }
        };
        assert!(links_here().contains(&ifb), "{ifb}: {:?}", links_here());
        owner.0.kill().unwrap(); // SIGKILL: nothing of isobox's runs after it
        owner.0.wait().unwrap();
        // Its sandbox died with it (die_with_parent) and the kernel removed the pair with the
        // sandbox's namespace; the ifb is the host's, and stays.
        let deadline = Instant::now() + Duration::from_secs(3);
        let pair = |links: Vec<String>| links.into_iter().filter(|l| l.starts_with("ibx") && l.contains('-')).count();
        while pair(links_here()) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(200));
        assert!(links_here().contains(&ifb), "the ifb went by itself: the sweep below would prove nothing");
        let next = helper("next").output().unwrap();
        let said = String::from_utf8_lossy(&next.stdout);
        assert!(next.status.success() && said.contains("spawned"), "{said}\n{}", String::from_utf8_lossy(&next.stderr));
        assert!(!links_here().contains(&ifb), "the next process did not sweep {ifb}: {:?}", links_here());
        assert_eq!(ibx_left_after(Duration::from_secs(3)), Vec::<String>::new());
    });
}
