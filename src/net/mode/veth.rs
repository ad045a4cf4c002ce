//! A spawn's veth pair (**parent**, while the child waits for `go`): made in the spawning
//! thread's network namespace with the peer born in the child's as `eth0`, both sides given
//! their address and brought up, and the default route added inside. The inside is
//! configured through a netlink socket opened *in the child's namespace* (the thread enters
//! it for the `socket` call only, [`super::netns`]), so the child runs no netlink of its own.
//!
//! The pair lives as long as its [`HostVeth`]: the `Child` holds it until reaped or dropped,
//! and a failed spawn drops it; then [`super::deleter`] sees it removed with the sandbox's
//! namespace (which the kernel does moments later, in batches) or deletes it itself.

use std::net::SocketAddr;
use std::os::fd::{AsFd, BorrowedFd};

use nix::errno::Errno;
use nix::unistd::Pid;

use super::error::NetworkError;
use super::netns::{self, Entered};
use super::plan::VethPlan;
use super::{deleter, name, sweep};
use crate::net::bandwidth::{self, apply::Applied, error::BandwidthError, plan::BandwidthPlan, stats::NetStats};
use crate::net::forward::TcpForwarder;
use crate::net::netlink::addr::{self, RouteTo};
use crate::net::netlink::error::NetlinkError;
use crate::net::netlink::socket::Netlink;
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
    /// Its bandwidth limits, as set and read back.
    limits: Option<Applied>,
    /// Its port forwards, stopped first when it is dropped.
    forwards: Vec<TcpForwarder>,
}

impl HostVeth {
    /// The host end's name (`ibx…`), e.g. for tc on it.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The counters of its bandwidth limits (`None` without limits).
    pub(crate) fn stats(&mut self) -> Option<Result<NetStats, BandwidthError>> {
        let limits = self.limits.clone()?;
        Some(bandwidth::stats::stats(self.nl(), &limits))
    }

    fn nl(&mut self) -> &mut Netlink {
        self.nl.as_mut().expect("held until the drop")
    }
}

impl Drop for HostVeth {
    fn drop(&mut self) {
        self.forwards.clear();
        if let Some(nl) = self.nl.take() {
            let ifb = self.limits.take().and_then(|l| l.ifb);
            deleter::delete_soon(deleter::Ended { name: std::mem::take(&mut self.name), nl, ifb });
        }
    }
}

/// Makes the pair for the child `pid` and configures both ends.
pub(crate) fn set_up(plan: &VethPlan, pid: Pid) -> Result<HostVeth, NetworkError> {
    let inside_ns = netns::open(&format!("/proc/{pid}/ns/net"))?;
    let mut nl = Netlink::open()?;
    sweep::once(&mut nl);
    let name = create(&mut nl, inside_ns.as_fd())?;
    let mut veth = HostVeth { name, nl: Some(nl), limits: None, forwards: Vec::new() };
    let (host, prefix) = (veth.name.clone(), plan.prefix);
    links::set_alias(veth.nl(), &host, &name::own_alias())?;
    addr::add_ipv4(veth.nl(), &host, plan.host_address, prefix)?;
    link::set_up(veth.nl(), &host, true)?;
    if let Some(limits) = &plan.bandwidth {
        veth.limits = Some(limit(veth.nl(), &host, limits)?);
    }
    let mut inside = open_inside(inside_ns.as_fd(), pid)?;
    addr::add_ipv4(&mut inside, INSIDE, plan.address, prefix)?;
    link::set_up(&mut inside, INSIDE, true)?;
    if plan.default_route {
        addr::add_route(&mut inside, INSIDE, RouteTo::DefaultVia(plan.host_address))?;
    }
    for forward in &plan.ports {
        veth.forwards.push(publish(forward, plan)?);
    }
    Ok(veth)
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

/// Sets the limits on the host end `host` (an ifb of this process's names for the egress, with
/// its alias, so that the sweep knows it), read back.
fn limit(nl: &mut Netlink, host: &str, limits: &BandwidthPlan) -> Result<Applied, NetworkError> {
    let ifb = name::next_name();
    let applied = bandwidth::apply::apply(nl, host, &ifb, limits)?;
    if let Some(ifb) = &applied.ifb {
        if let Err(e) = links::set_alias(nl, ifb, &name::own_alias()) {
            let _ = bandwidth::apply::remove(nl, &applied);
            return Err(e.into());
        }
    }
    Ok(applied)
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
