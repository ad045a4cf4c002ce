//! The network modes as latency variants (the full sandbox with each), against loopback.
//! The veth variants' host side must not be the host's: [`enter_private_netns`] moves the
//! calling thread (the bench's main thread, whose pools and spawns follow it) into a network
//! namespace of its own first, with 10.x addresses only in there.

use std::net::Ipv4Addr;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;

use isobox::{Bandwidth, Bridge, Capabilities, Mount, Namespaces, Network, Sandbox, UserNet, UserNetHelper, Veth};

use super::Fixture;

/// Moves the calling thread into a new network namespace; false if it cannot (not root).
pub fn enter_private_netns() -> bool {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).is_ok()
}

/// The full sandbox with each network mode, named `net: …`.
pub fn variants(f: &Fixture, root: bool) -> Vec<(&'static str, Sandbox, PathBuf)> {
    let five = Namespaces::USER | Namespaces::PID | Namespaces::MOUNT | Namespaces::UTS | Namespaces::IPC;
    let with_caps = |network: Network, keep: Capabilities| {
        let mut b = Sandbox::builder();
        b.namespaces(five).rootfs(f.root()).mount(Mount::proc("/proc")).mount(Mount::dev("/dev")).hostname("bench");
        b.network(network).capabilities(keep);
        b.build().unwrap()
    };
    let with = |network: Network| with_caps(network, Capabilities::empty());
    let here: OwnedFd = std::fs::File::open("/proc/thread-self/ns/net").unwrap().into();
    let mut out = vec![("net: host", with(Network::Host)), ("net: loopback", with(Network::Loopback))];
    if root {
        out.push(("net: join", with(Network::Join(Arc::new(here))))); // needs CAP_SYS_ADMIN
    }
    for (name, helper) in
        [("net: user-mode (pasta)", UserNetHelper::Pasta), ("net: user-mode (slirp4netns)", UserNetHelper::Slirp4netns)]
    {
        // pasta copies the spawning namespace's outbound interface: none in the bench's own.
        let usable = !(root && helper == UserNetHelper::Pasta);
        if usable && std::process::Command::new(helper.program()).arg("--version").output().is_ok() {
            out.push((name, with(Network::UserMode(UserNet::new(helper)))));
        }
    }
    if root {
        let veth = Veth::new(Ipv4Addr::new(10, 233, 0, 2), Ipv4Addr::new(10, 233, 0, 1), 24);
        out.push(("net: veth", with(Network::Veth(veth.clone()))));
        let limits = Bandwidth::new().ingress(10_000_000).egress(10_000_000);
        out.push(("net: veth + bandwidth", with(Network::Veth(veth.clone().bandwidth(limits)))));
        // NET_ADMIN kept: the egress limit sits on an ifb of the host side, made and deleted
        // with each pair (the deletion on isobox's thread, off the wait).
        let kept = with_caps(Network::Veth(veth.clone().bandwidth(limits)), Capabilities::NET_ADMIN);
        out.push(("net: veth + bandwidth, NET_ADMIN kept", kept));
        let bridged = Veth::new(Ipv4Addr::new(10, 234, 0, 2), Ipv4Addr::new(10, 234, 0, 1), 24);
        out.push(("net: bridge", with(Network::Veth(bridged.clone().bridge(Bridge::new("isobench0"))))));
        // NAT needs nft (nftables); the bench's namespace has no default route to check.
        if ["/usr/sbin/nft", "/sbin/nft"].iter().any(|p| std::path::Path::new(p).exists()) {
            out.push(("net: veth, nat", with(Network::Veth(veth.nat(true)))));
            let nat = bridged.nat(true).bridge(Bridge::new("isobench1"));
            out.push(("net: bridge, nat", with(Network::Veth(nat))));
        }
    }
    out.into_iter().map(|(name, sb)| (name, sb, PathBuf::from("/tiny"))).collect()
}
