//! A spawn's veth pair (**parent**, while the child waits for `go`): made in the spawning
//! thread's network namespace with the peer born in the child's as `eth0`, both sides given
//! their address and brought up, and the default route added inside. The inside is
//! configured through a netlink socket opened *in the child's namespace* (the thread enters
//! it for the `socket` call only, [`super::netns`]), so the child runs no netlink of its own.
//!
//! The pair lives as long as its [`HostVeth`]: the `Child` holds it until reaped or dropped,
//! and a failed spawn drops it; then [`super::deleter`] sees it removed with the sandbox's
//! namespace (which the kernel does moments later, in batches) or deletes it itself, and
//! deletes the pair's ifb (an egress limit on the host side) at once.

use std::net::SocketAddr;
use std::os::fd::{AsFd, BorrowedFd};

use nix::errno::Errno;
use nix::unistd::Pid;

use super::error::NetworkError;
use super::nat::{self, NatRule};
use super::netns::{self, Entered};
use super::plan::{EgressAt, VethPlan};
use super::registry::{self, Claim};
use super::{bridge, deleter, name, sweep};
use crate::net::bandwidth::{self, apply::Applied, error::BandwidthError, plan::BandwidthPlan, stats::NetStats};
use crate::net::forward::TcpForwarder;
use crate::net::netlink::addr::{self, RouteTo};
use crate::net::netlink::error::NetlinkError;
use crate::net::netlink::socket::Netlink;
use crate::net::netlink::tc::Tbf;
use crate::net::netlink::{link, links};
use crate::net::usermode::spec::PortForward;

/// The name of the sandbox's end.
pub(crate) const INSIDE: &str = "eth0";

/// The host end of a spawn's veth pair: ended (both ends) when dropped.
#[derive(Debug)]
pub(crate) struct HostVeth {
    name: String,
    /// A socket in the namespace the host end is in, for its deletion from any thread.
    nl: Option<Netlink>,
    /// The limits set on the host side, as set and read back: into the sandbox, a tbf on the
    /// host end; out of it with [`EgressAt::HostIfb`], the host end's ingress redirected to
    /// an ifb with a tbf.
    limits: Option<Applied>,
    /// That ifb, from its creation on: deleted with the pair.
    ifb: Option<String>,
    /// The limit out of the sandbox with [`EgressAt::Eth0`]: a tbf on `eth0` inside, set and
    /// read back through this socket in the sandbox's namespace (kept alive until the drop).
    inside: Option<(Netlink, Applied)>,
    /// Its port forwards, stopped first when it is dropped.
    forwards: Vec<TcpForwarder>,
    /// Its address in this process's registry of live ones ([`registry`]).
    claimed: Option<Claim>,
    /// Its masquerade rule (`Veth::nat`), deleted when dropped.
    nat: Option<NatRule>,
    /// The bridge it is a port of (`Veth::bridge`): freed when dropped, and the bridge
    /// deleted by the deleter if that was its last port.
    bridge: Option<String>,
}

impl HostVeth {
    /// The host end's name (`ibx…`), e.g. for tc on it.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The counters of its bandwidth limits (`None` without limits).
    pub(crate) fn stats(&mut self) -> Option<Result<NetStats, BandwidthError>> {
        if self.limits.is_none() && self.inside.is_none() {
            return None;
        }
        let mut stats = NetStats::default();
        if let Some(limits) = self.limits.clone() {
            match bandwidth::stats::stats(self.nl(), &limits) {
                Ok(host) => stats = host,
                Err(e) => return Some(Err(e)),
            }
        }
        if let Some((nl, applied)) = &mut self.inside {
            // The tbf inside is eth0's root qdisc, which `stats` reports as the "ingress" one.
            match bandwidth::stats::stats(nl, applied) {
                Ok(inside) => stats.egress = inside.ingress,
                Err(e) => return Some(Err(e)),
            }
        }
        Some(Ok(stats))
    }

    fn nl(&mut self) -> &mut Netlink {
        self.nl.as_mut().expect("held until the drop")
    }

    /// Sets `plan` on the host end, read back: its ingress tbf as the host end's root qdisc;
    /// its egress tbf on an ifb named after the pair ([`name::ifb_name`]), marked with this
    /// process's alias (so the sweep knows it if this process dies) and without IPv6 before
    /// it comes up, the host end's ingress redirected to it. The sandbox's `eth0` carries no
    /// limit then: its `CAP_NET_ADMIN` cannot remove one, nor its `CAP_NET_RAW` bypass one
    /// (a packet socket's `PACKET_QDISC_BYPASS` skips `eth0`'s qdisc, not the host end's
    /// ingress).
    fn limit_host(&mut self, plan: BandwidthPlan) -> Result<Applied, NetworkError> {
        let (host, ifb) = (self.name.clone(), name::ifb_name(&self.name));
        if plan.egress.is_some() {
            bandwidth::apply::create_ifb(self.nl(), &ifb)?;
            self.ifb = Some(ifb.clone());
            links::set_alias(self.nl(), &ifb, &name::own_alias())?;
            no_ipv6(&ifb)?;
        }
        Ok(bandwidth::apply::shape(self.nl(), &host, &ifb, &plan)?)
    }
}

impl Drop for HostVeth {
    /// The forwards stop, the host end goes down at once (its route with it, so the next
    /// spawn of these addresses is not answered by this pair); its NAT rule is deleted; the
    /// pair and its ifb go to the deleter (which deletes the ifb at once: no namespace's end
    /// removes it).
    fn drop(&mut self) {
        self.forwards.clear();
        // The NAT rule goes now, on the wait (two `nft` runs): on the deleter thread, 300 spawns
        // in a row left a backlog of rules still there 10 s later.
        self.nat = None;
        if let Some(mut nl) = self.nl.take() {
            // Down, a bridge's port no longer counts (freeing it would cost ~16 ms of RCU waits
            // here: it goes with the pair).
            let _ = link::set_up(&mut nl, &self.name, false);
            self.inside = None; // the sandbox's namespace may go
            let (ifb, bridge) = (self.ifb.take(), self.bridge.take());
            deleter::delete_soon(deleter::Ended { name: std::mem::take(&mut self.name), nl, ifb, bridge, nat: None });
        }
        if let Some(claim) = self.claimed.take() {
            registry::release(&claim);
        }
    }
}

/// Makes the pair for the child `pid` and configures both ends.
pub(crate) fn set_up(plan: &VethPlan, pid: Pid) -> Result<HostVeth, NetworkError> {
    let mut nl = Netlink::open()?;
    let claimed = registry::claim(plan, nl.netns_id())?;
    let released = |e| {
        registry::release(&claimed);
        e
    };
    let inside_ns = netns::open(&format!("/proc/{pid}/ns/net")).map_err(released)?;
    sweep::once(&mut nl);
    let name = create(&mut nl, inside_ns.as_fd()).map_err(|e| released(e.into()))?;
    let mut veth = HostVeth {
        name,
        nl: Some(nl),
        limits: None,
        ifb: None,
        inside: None,
        forwards: Vec::new(),
        claimed: Some(claimed),
        nat: None,
        bridge: plan.bridge.clone(),
    };
    let (host, prefix) = (veth.name.clone(), plan.prefix);
    let alias = if plan.bridge.is_some() { name::port_alias(plan.address) } else { name::own_alias() };
    links::set_alias(veth.nl(), &host, &alias)?;
    no_ipv6(&host)?;
    match &plan.bridge {
        Some(_) => {
            link::set_up(veth.nl(), &host, true)?; // up before it is a port: a down one is an ended one's
            bridge::attach(veth.nl(), plan, &host)?;
        }
        None => {
            addr::add_ipv4(veth.nl(), &host, plan.host_address, prefix)?;
            link::set_up(veth.nl(), &host, true)?;
        }
    }
    if plan.nat {
        // On a bridge, its packets come in through the bridge: forwarding is the bridge's.
        let via = plan.bridge.as_deref().unwrap_or(&host);
        veth.nat = Some(nat::add(&host, via, plan.address, prefix)?);
    }
    let (on_host, eth0_egress) = split_limits(plan);
    if !on_host.is_empty() {
        veth.limits = Some(veth.limit_host(on_host)?);
    }
    let mut inside = open_inside(inside_ns.as_fd(), pid)?;
    if plan.bridge.is_some() {
        crate::net::netlink::bridge::set_mac(&mut inside, INSIDE, bridge::sandbox_mac(plan.address))?;
    }
    addr::add_ipv4(&mut inside, INSIDE, plan.address, prefix)?;
    link::set_up(&mut inside, INSIDE, true)?;
    if plan.default_route {
        addr::add_route(&mut inside, INSIDE, RouteTo::DefaultVia(plan.host_address))?;
    }
    if let Some(tbf) = eth0_egress {
        let plan = BandwidthPlan { ingress: Some(tbf), egress: None };
        let applied = bandwidth::apply::apply(&mut inside, INSIDE, "", &plan)?;
        veth.inside = Some((inside, applied));
    }
    for forward in &plan.ports {
        veth.forwards.push(publish(forward, plan)?);
    }
    Ok(veth)
}

/// The limits of `plan` on the host side (the ingress one; the egress one with
/// [`EgressAt::HostIfb`]) and the egress one on `eth0` (with [`EgressAt::Eth0`]).
fn split_limits(plan: &VethPlan) -> (BandwidthPlan, Option<Tbf>) {
    let BandwidthPlan { ingress, egress } = plan.bandwidth.unwrap_or_default();
    match plan.egress_at {
        EgressAt::HostIfb => (BandwidthPlan { ingress, egress }, None),
        EgressAt::Eth0 => (BandwidthPlan { ingress, egress: None }, egress),
    }
}

/// Turns IPv6 off on the host-side link `name` (in the calling thread's namespace) before it
/// comes up: else a sandbox allowed raw sockets could send router advertisements that add
/// routes to the host's table, and reach host services on `[::]` by the link-local address.
/// No IPv6 on the host (no such file) is fine.
pub(crate) fn no_ipv6(name: &str) -> Result<(), NetworkError> {
    let path = format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6");
    match std::fs::write(&path, "1") {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other.map_err(|source| NetworkError::Open { path, source }),
    }
}

/// Listens on `forward`'s host address and port (in this thread's namespace: the forwarder's
/// threads are made here) and carries each connection to the sandbox's address.
fn publish(forward: &PortForward, plan: &VethPlan) -> Result<TcpForwarder, NetworkError> {
    let address = SocketAddr::from((forward.host_address, forward.host_port));
    let target = SocketAddr::from((plan.address, forward.sandbox_port));
    TcpForwarder::start(address, target).map_err(|source| NetworkError::Publish {
        address,
        sandbox_port: forward.sandbox_port,
        source,
    })
}

/// Creates the pair under this process's next free name (a name can be taken by a leftover
/// the sweep could not delete).
fn create(nl: &mut Netlink, inside: BorrowedFd<'_>) -> Result<String, NetlinkError> {
    let mut tries = 0;
    loop {
        let name = name::next_name();
        match link::create_veth(nl, &name, INSIDE, Some(inside)) {
            Ok(()) => return Ok(name),
            Err(e) if e.errno == Errno::EEXIST && tries < 3 => tries += 1,
            Err(e) => return Err(e),
        }
    }
}

/// A netlink socket in the namespace `ns` of process `pid`.
fn open_inside(ns: BorrowedFd<'_>, pid: Pid) -> Result<Netlink, NetworkError> {
    let entered = Entered::enter(ns, |errno| NetworkError::EnterSandbox { pid: pid.as_raw(), errno })?;
    let socket = Netlink::open();
    drop(entered);
    Ok(socket?)
}
