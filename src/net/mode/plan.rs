//! A network mode at `build()` (**parent**): checked, and turned into the namespaces the
//! sandbox gets and what each spawn does for it. Pure: unit-tested without root.

use std::net::Ipv4Addr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

use super::error::NetworkConfigError;
use super::spec::{Network, Veth};
use crate::caps::spec::Capabilities;
use crate::namespaces::Namespaces;
use crate::net::bandwidth::{self, plan::BandwidthPlan};
use crate::net::usermode::plan::UserNetPlan;
use crate::net::usermode::spec::{PortForward, Protocol};

/// What each spawn does for the sandbox's network.
#[derive(Debug, Clone, Default)]
pub(crate) enum ModePlan {
    /// Nothing: the spawning thread's network (no network namespace).
    #[default]
    Host,
    /// A new namespace, `lo` up by the child.
    Loopback,
    /// The spawning thread enters this namespace around the clone (no `CLONE_NEWNET`).
    Join(Arc<OwnedFd>),
    /// A new namespace and a veth pair made while the child waits.
    Veth(VethPlan),
    /// A new namespace and a user-mode helper started for it while the child waits.
    UserMode(UserNetPlan),
}

/// A checked [`Veth`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VethPlan {
    pub address: Ipv4Addr,
    pub host_address: Ipv4Addr,
    pub prefix: u8,
    pub default_route: bool,
    /// The tbfs of its limits, if any.
    pub bandwidth: Option<BandwidthPlan>,
    /// Its port forwards (TCP).
    pub ports: Vec<PortForward>,
    /// Masquerade to the host's outbound interfaces.
    pub nat: bool,
    /// Where the egress limit sits (see [`place_egress`]).
    pub egress_at: EgressAt,
    /// The bridge the host end is a port of (its name, checked), which has `host_address`.
    pub bridge: Option<String>,
}

/// Where a veth's egress limit (its tbf) sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum EgressAt {
    /// The root qdisc of the sandbox's own `eth0`: no link more to make and delete.
    #[default]
    Eth0,
    /// An ifb on the host side that the host end's ingress is redirected to: out of reach of
    /// a sandbox keeping `CAP_NET_ADMIN` or `CAP_NET_RAW`.
    HostIfb,
}

impl ModePlan {
    /// The namespace the spawning thread enters around the clone (`Join`).
    pub(crate) fn joined(&self) -> Option<BorrowedFd<'_>> {
        match self {
            ModePlan::Join(fd) => Some(fd.as_fd()),
            _ => None,
        }
    }

    /// The user-mode helper each spawn starts.
    pub(crate) fn user_mode(&self) -> Option<&UserNetPlan> {
        match self {
            ModePlan::UserMode(u) => Some(u),
            _ => None,
        }
    }

    /// The veth each spawn makes.
    pub(crate) fn veth(&self) -> Option<&VethPlan> {
        match self {
            ModePlan::Veth(v) => Some(v),
            _ => None,
        }
    }
}

/// The namespaces the sandbox gets (`ns` with `NET` as `network` says; without `network`,
/// `ns` as given) and the mode's plan. `Join` is `ns` without `NET`: the child is born in the
/// joined namespace, not in one of its own.
pub(crate) fn compile(
    network: Option<&Network>,
    ns: Namespaces,
    is_root: bool,
) -> Result<(Namespaces, ModePlan), NetworkConfigError> {
    let Some(network) = network else {
        let mode = if ns.contains(Namespaces::NET) { ModePlan::Loopback } else { ModePlan::Host };
        return Ok((ns, mode));
    };
    Ok(match network {
        Network::Host => (ns - Namespaces::NET, ModePlan::Host),
        Network::Loopback => (ns | Namespaces::NET, ModePlan::Loopback),
        Network::Join(fd) => (ns - Namespaces::NET, ModePlan::Join(Arc::clone(fd))),
        Network::Veth(veth) => {
            if !is_root {
                return Err(NetworkConfigError::VethNeedsRoot);
            }
            (ns | Namespaces::NET, ModePlan::Veth(check_veth(veth)?))
        }
        Network::UserMode(net) => {
            if !ns.contains(Namespaces::USER) {
                return Err(NetworkConfigError::UserModeNeedsUserNamespace);
            }
            (ns | Namespaces::NET, ModePlan::UserMode(UserNetPlan::new(net)?))
        }
    })
}

/// Places a veth's egress limit for a sandbox keeping `keep`. On its own `eth0` it is
/// cheapest, but a sandbox keeping `CAP_NET_ADMIN` could take it off, and one keeping
/// `CAP_NET_RAW` could send past it (a packet socket's `PACKET_QDISC_BYPASS`): with either,
/// the limit goes to the host side ([`EgressAt::HostIfb`]).
pub(crate) fn place_egress(mut network: ModePlan, keep: Capabilities) -> ModePlan {
    if let ModePlan::Veth(veth) = &mut network {
        let limited = veth.bandwidth.is_some_and(|b| b.egress.is_some());
        if limited && keep.intersects(Capabilities::NET_ADMIN | Capabilities::NET_RAW) {
            veth.egress_at = EgressAt::HostIfb;
        }
    }
    network
}

/// Checks a veth's addresses: a prefix of 16 to 31, two different addresses in one subnet,
/// neither its network nor its broadcast address (up to /30; a /31 has neither).
fn check_veth(veth: &Veth) -> Result<VethPlan, NetworkConfigError> {
    let (address, host_address, prefix) = (veth.address, veth.host_address, veth.prefix);
    // Shorter than /16, the host side's connected route would take traffic of the host's own
    // routes (a /1 beats the default route) into the sandbox.
    if !(16..=31).contains(&prefix) {
        return Err(NetworkConfigError::Prefix { prefix });
    }
    if address == host_address {
        return Err(NetworkConfigError::SameAddress { address });
    }
    let mask = u32::MAX << (32 - prefix);
    let (a, h) = (u32::from(address), u32::from(host_address));
    if a & mask != h & mask {
        return Err(NetworkConfigError::DifferentSubnets { address, host_address, prefix });
    }
    if prefix <= 30 {
        for (bits, addr) in [(a, address), (h, host_address)] {
            if bits & !mask == 0 || bits & !mask == !mask {
                return Err(NetworkConfigError::ReservedAddress { address: addr, prefix });
            }
        }
    }
    let bandwidth = veth.bandwidth.as_ref().map(bandwidth::plan::compile).transpose()?;
    let bandwidth = bandwidth.filter(|b| !b.is_empty());
    let ports = check_ports(&veth.ports)?;
    let default_route = veth.default_route;
    let egress_at = EgressAt::Eth0;
    let bridge = veth.bridge.as_ref().map(|b| super::spec::check_name(b.name())).transpose()?;
    Ok(VethPlan { address, host_address, prefix, default_route, bandwidth, ports, nat: veth.nat, egress_at, bridge })
}

/// A veth's forwards: TCP, ports not 0, no host address and port twice.
fn check_ports(ports: &[PortForward]) -> Result<Vec<PortForward>, NetworkConfigError> {
    for (i, &forward) in ports.iter().enumerate() {
        let why = if forward.protocol != Protocol::Tcp {
            Some("only TCP is carried over a veth (user-mode networking carries UDP)")
        } else if forward.host_port == 0 || forward.sandbox_port == 0 {
            Some("port 0")
        } else if ports[..i].iter().any(|p| (p.host_address, p.host_port) == (forward.host_address, forward.host_port))
        {
            Some("that host address and port are forwarded already")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(NetworkConfigError::VethPort { forward, why });
        }
    }
    Ok(ports.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn veth(a: [u8; 4], h: [u8; 4], prefix: u8) -> Network {
        Network::Veth(Veth::new(Ipv4Addr::from(a), Ipv4Addr::from(h), prefix))
    }

    fn refusal(network: &Network) -> NetworkConfigError {
        compile(Some(network), Namespaces::USER, true).unwrap_err()
    }

    #[test]
    fn the_mode_wins_over_the_net_bit_and_without_it_the_bit_decides() {
        let ns = Namespaces::USER | Namespaces::NET;
        assert!(matches!(compile(None, ns, false).unwrap(), (n, ModePlan::Loopback) if n == ns));
        assert!(matches!(compile(None, Namespaces::USER, false).unwrap(), (Namespaces::USER, ModePlan::Host)));
        assert!(matches!(compile(Some(&Network::Host), ns, false).unwrap(), (Namespaces::USER, ModePlan::Host)));
        let lo = compile(Some(&Network::Loopback), Namespaces::USER, false).unwrap();
        assert!(matches!(lo, (n, ModePlan::Loopback) if n == ns));
        let fd: OwnedFd = std::fs::File::open("/proc/self/ns/net").unwrap().into();
        let (n, join) = compile(Some(&Network::Join(Arc::new(fd))), ns, false).unwrap();
        assert_eq!(n, Namespaces::USER, "a joined namespace is not the sandbox's own");
        assert!(join.joined().is_some() && join.veth().is_none());
        let (n, v) = compile(Some(&veth([10, 1, 0, 2], [10, 1, 0, 1], 24)), Namespaces::USER, true).unwrap();
        assert_eq!(n, ns);
        assert_eq!(v.veth().map(|v| (v.prefix, v.default_route)), Some((24, true)));
    }

    #[test]
    fn bad_veth_addresses_are_refused() {
        assert_eq!(refusal(&veth([10, 1, 0, 2], [10, 1, 0, 1], 0)), NetworkConfigError::Prefix { prefix: 0 });
        assert_eq!(refusal(&veth([10, 1, 0, 2], [10, 1, 0, 1], 32)), NetworkConfigError::Prefix { prefix: 32 });
        assert_eq!(refusal(&veth([10, 1, 0, 2], [10, 1, 0, 1], 33)), NetworkConfigError::Prefix { prefix: 33 });
        assert_eq!(refusal(&veth([10, 0, 0, 2], [10, 0, 0, 1], 1)), NetworkConfigError::Prefix { prefix: 1 });
        assert_eq!(refusal(&veth([10, 0, 0, 2], [10, 0, 0, 1], 15)), NetworkConfigError::Prefix { prefix: 15 });
        let same = refusal(&veth([10, 1, 0, 2], [10, 1, 0, 2], 24));
        assert_eq!(same, NetworkConfigError::SameAddress { address: Ipv4Addr::new(10, 1, 0, 2) });
        let apart = refusal(&veth([10, 1, 0, 5], [10, 1, 0, 1], 30));
        assert!(matches!(apart, NetworkConfigError::DifferentSubnets { prefix: 30, .. }), "{apart}");
        let network = refusal(&veth([10, 1, 0, 0], [10, 1, 0, 1], 24));
        assert_eq!(network, NetworkConfigError::ReservedAddress { address: Ipv4Addr::new(10, 1, 0, 0), prefix: 24 });
        let broadcast = refusal(&veth([10, 1, 0, 2], [10, 1, 0, 3], 30));
        assert!(matches!(broadcast, NetworkConfigError::ReservedAddress { prefix: 30, .. }), "{broadcast}");
        assert!(compile(Some(&veth([10, 1, 0, 0], [10, 1, 0, 1], 31)), Namespaces::USER, true).is_ok());
        let off =
            Network::Veth(Veth::new(Ipv4Addr::new(10, 1, 0, 1), Ipv4Addr::new(10, 1, 0, 2), 30).default_route(false));
        assert_eq!(compile(Some(&off), Namespaces::USER, true).unwrap().1.veth().map(|v| v.default_route), Some(false));
    }

    #[test]
    fn the_egress_limit_goes_to_the_host_side_with_net_admin_or_net_raw_kept() {
        let limited = Veth::new(Ipv4Addr::new(10, 1, 0, 2), Ipv4Addr::new(10, 1, 0, 1), 24)
            .bandwidth(crate::net::bandwidth::spec::Bandwidth::new().egress(2_000_000));
        let (_, plan) = compile(Some(&Network::Veth(limited)), Namespaces::USER, true).unwrap();
        let at = |keep| place_egress(plan.clone(), keep).veth().map(|v| v.egress_at);
        assert_eq!(at(Capabilities::empty()), Some(EgressAt::Eth0));
        assert_eq!(at(Capabilities::NET_BIND_SERVICE | Capabilities::KILL), Some(EgressAt::Eth0));
        assert_eq!(at(Capabilities::NET_ADMIN), Some(EgressAt::HostIfb));
        assert_eq!(at(Capabilities::NET_RAW), Some(EgressAt::HostIfb));
        assert_eq!(at(Capabilities::DOCKER_DEFAULT), Some(EgressAt::HostIfb), "DOCKER_DEFAULT keeps NET_RAW");
        // Without an egress limit, or in another mode, there is nothing to place.
        let free = compile(Some(&veth([10, 1, 0, 2], [10, 1, 0, 1], 24)), Namespaces::USER, true).unwrap().1;
        assert_eq!(place_egress(free, Capabilities::NET_ADMIN).veth().map(|v| v.egress_at), Some(EgressAt::Eth0));
        assert!(matches!(place_egress(ModePlan::Loopback, Capabilities::NET_ADMIN), ModePlan::Loopback));
    }

    #[test]
    fn a_veth_for_a_caller_who_is_not_root_is_refused() {
        let err = compile(Some(&veth([10, 1, 0, 2], [10, 1, 0, 1], 24)), Namespaces::USER, false).unwrap_err();
        assert_eq!(err, NetworkConfigError::VethNeedsRoot);
    }
}
