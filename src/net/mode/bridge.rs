//! A veth sandbox's bridge (**parent**, `Veth::bridge`): created if missing, the host end made
//! its port, and deleted once it has no port left, in the spawning thread's network namespace.
//!
//! A bridge of isobox's is marked with the alias [`ALIAS`] (plus ` nat` when made for
//! `Veth::nat` sandboxes), has the gateway address and a hardware address isobox sets (so it
//! does not change as ports come and go, which would leave its sandboxes' ARP caches wrong),
//! and IPv6 off. Several isobox processes may share one: creating or joining it (up to the
//! port's `IFLA_MASTER`) and deleting it once empty hold an `flock` on [`LOCK`], so no process
//! deletes a bridge another has just attached to. A port counts while it is up: a spawn brings
//! its host end up before attaching it, and a dropped `HostVeth` takes it down at once (the
//! pair itself goes with the sandbox's namespace: freeing the port would cost ~16 ms of RCU
//! waits on the caller's path). [`super::deleter`]'s thread then deletes the bridge if no port
//! is up, and the sweep ([`super::sweep`]) deletes every such isobox bridge after the dead
//! owners' ports.

use std::fs::File;
use std::net::Ipv4Addr;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use super::error::NetworkError;
use super::name;
use super::plan::VethPlan;
use crate::net::netlink::addr;
use crate::net::netlink::bridge::{self, LinkInfo};
use crate::net::netlink::link;
use crate::net::netlink::socket::Netlink;

/// The lock of every isobox process's bridge changes.
pub(crate) const LOCK: &str = "/run/isobox-bridge.lock";
/// The alias of isobox's bridges.
pub(crate) const ALIAS: &str = "isobox-bridge";
const NAT_ALIAS: &str = "isobox-bridge nat";

/// The hardware address of a sandbox's `eth0` on a bridge: fixed by its IPv4 address (locally
/// administered), so a later sandbox with that address is reached at once by the gateway and
/// the others, whose ARP caches still name the earlier one's.
pub(crate) fn sandbox_mac(address: Ipv4Addr) -> [u8; 6] {
    let [a, b, c, d] = address.octets();
    [0x02, 0x1b, a, b, c, d]
}

/// The bridge's own hardware address (from its gateway address).
fn bridge_mac(gateway: Ipv4Addr) -> [u8; 6] {
    let [a, b, c, d] = gateway.octets();
    [0x02, 0x1a, a, b, c, d]
}

/// Whether `link` is a bridge isobox made, and with NAT or not.
fn isobox_bridge(link: &LinkInfo) -> Option<bool> {
    match (link.kind.as_deref(), link.alias.as_deref()) {
        (Some("bridge"), Some(ALIAS)) => Some(false),
        (Some("bridge"), Some(NAT_ALIAS)) => Some(true),
        _ => None,
    }
}

/// Makes `port` (the host end, in the namespace of `nl`) a port of `plan`'s bridge, creating
/// the bridge with the gateway address if missing. A failure may leave the bridge without a
/// port: the caller's `HostVeth` hands it to the deleter, which removes it.
pub(crate) fn attach(nl: &mut Netlink, plan: &VethPlan, port: &str) -> Result<(), NetworkError> {
    let Some(name) = plan.bridge.as_deref() else { return Ok(()) };
    let _lock = lock().map_err(|source| NetworkError::Open { path: LOCK.into(), source })?;
    let index = match bridge::get(nl, name)? {
        None => create(nl, plan, name)?,
        Some(found) => match isobox_bridge(&found) {
            None => return Err(NetworkError::BridgeNotIsobox { bridge: name.into(), kind: found.kind }),
            Some(nat) if nat != plan.nat => return Err(NetworkError::BridgeNat { bridge: name.into(), nat }),
            Some(_) => {
                // Another process's live sandbox with this address (this process's own are
                // refused by the registry before the pair is made).
                if address_taken(nl, found.index, plan.address)? {
                    return Err(NetworkError::BridgeAddressInUse { bridge: name.into(), address: plan.address });
                }
                // Another spawn's gateway may be another address of the bridge's (another subnet).
                match addr::add_ipv4(nl, name, plan.host_address, plan.prefix) {
                    Err(e) if e.errno == Errno::EEXIST => {}
                    other => other?,
                }
                found.index
            }
        },
    };
    bridge::set_master(nl, port, index)?;
    Ok(())
}

/// Whether a port of bridge `index` that is up (a live sandbox's, see `delete_empty`) names
/// `address` in its alias (`name::port_alias`), and its owner is not gone (a dead owner's
/// port, not swept yet, holds nothing).
fn address_taken(nl: &mut Netlink, index: u32, address: Ipv4Addr) -> Result<bool, NetworkError> {
    let links = bridge::list(nl)?;
    let held = |alias: &str| {
        let owner_live = name::alias_owner(alias).is_some_and(|(ns, pid, start)| !name::owner_gone(ns, pid, start));
        name::alias_address(alias) == Some(address) && owner_live
    };
    Ok(links.iter().any(|l| l.master == Some(index) && l.up && l.alias.as_deref().is_some_and(held)))
}

/// Creates the bridge `name` for `plan` and brings it up; returns its index. A bridge whose
/// alias could not be set is deleted at once: without it, it is nobody's to delete later.
fn create(nl: &mut Netlink, plan: &VethPlan, name: &str) -> Result<u32, NetworkError> {
    bridge::create(nl, name, bridge_mac(plan.host_address))?;
    let alias = if plan.nat { NAT_ALIAS } else { ALIAS };
    if let Err(e) = crate::net::netlink::links::set_alias(nl, name, alias) {
        let _ = link::delete(nl, name);
        return Err(e.into());
    }
    no_ipv6(name)?;
    addr::add_ipv4(nl, name, plan.host_address, plan.prefix)?;
    link::set_up(nl, name, true)?;
    Ok(link::index(nl, name)?)
}

/// IPv6 off on the bridge before it comes up, as on a host end (`veth::no_ipv6`, not
/// imported: `veth` uses this module): a sandbox's router advertisements must not route the
/// host. No IPv6 on the host is fine.
fn no_ipv6(name: &str) -> Result<(), NetworkError> {
    let path = format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6");
    match std::fs::write(&path, "1") {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other.map_err(|source| NetworkError::Open { path, source }),
    }
}

/// Deletes the isobox bridge `name` if it has no port (best effort; nothing without the lock:
/// another process may be attaching).
pub(crate) fn remove_if_empty(nl: &mut Netlink, name: &str) {
    let Ok(_lock) = lock() else { return };
    if let Ok(links) = bridge::list(nl) {
        delete_empty(nl, &links, |l| l.name == name);
    }
}

/// Deletes every empty isobox bridge of the namespace of `nl` (after the sweep of dead
/// owners' ports); returns their names.
pub(crate) fn sweep_empty(nl: &mut Netlink) -> Vec<String> {
    let Ok(_lock) = lock() else { return Vec::new() };
    let links = bridge::list(nl).unwrap_or_default();
    delete_empty(nl, &links, |_| true)
}

/// Deletes the isobox bridges among `links` that `pick` chooses and that have no port up
/// (called with the lock held). A port that is down is an ended sandbox's, whose pair the
/// kernel removes with its namespace (a spawn brings its port up before attaching it).
fn delete_empty(nl: &mut Netlink, links: &[LinkInfo], pick: impl Fn(&LinkInfo) -> bool) -> Vec<String> {
    let live = |b: &LinkInfo| links.iter().any(|l| l.up && l.master == Some(b.index));
    let empty = |b: &&LinkInfo| isobox_bridge(b).is_some() && !live(b);
    let gone = links.iter().filter(|l| pick(l)).filter(empty).map(|b| b.name.clone());
    gone.filter(|name| link::delete(nl, name).is_ok()).collect()
}

/// The lock over isobox's bridge changes.
fn lock() -> std::io::Result<Flock<File>> {
    let file = File::options().create(true).truncate(false).write(true).open(LOCK)?;
    Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| errno.into())
}

#[cfg(test)]
mod tests {
    use super::super::error::NetworkConfigError;
    use super::super::spec::check_name;
    use super::*;

    fn link(name: &str, index: u32, kind: &str, alias: Option<&str>, master: Option<u32>) -> LinkInfo {
        let (kind, alias) = (Some(kind.into()), alias.map(str::to_owned));
        LinkInfo { name: name.into(), index, kind, alias, master, up: true }
    }

    #[test]
    fn names_the_kernel_refuses_are_refused() {
        assert_eq!(check_name("isobr0"), Ok("isobr0".to_owned()));
        assert_eq!(check_name("a-15-bytes-name"), Ok("a-15-bytes-name".to_owned()));
        for bad in ["", "a-16-bytes-name!", ".", "..", "all", "default", "br/0", "br:0", "br 0", "br\t0", "bré"] {
            assert!(matches!(check_name(bad), Err(NetworkConfigError::BridgeName { .. })), "{bad:?}");
        }
    }

    #[test]
    fn only_isobox_bridges_count_and_macs_follow_addresses() {
        assert_eq!(isobox_bridge(&link("b", 1, "bridge", Some(ALIAS), None)), Some(false));
        assert_eq!(isobox_bridge(&link("b", 1, "bridge", Some(NAT_ALIAS), None)), Some(true));
        assert_eq!(isobox_bridge(&link("b", 1, "bridge", None, None)), None);
        assert_eq!(isobox_bridge(&link("b", 1, "bridge", Some("isobox 1 2 3"), None)), None);
        assert_eq!(isobox_bridge(&link("b", 1, "veth", Some(ALIAS), None)), None);
        assert_eq!(sandbox_mac(Ipv4Addr::new(10, 1, 2, 3)), [2, 0x1b, 10, 1, 2, 3]);
        assert_ne!(sandbox_mac(Ipv4Addr::new(10, 1, 2, 3)), bridge_mac(Ipv4Addr::new(10, 1, 2, 3)));
        assert_eq!(sandbox_mac(Ipv4Addr::new(10, 1, 2, 3))[0] & 3, 2, "locally administered, unicast");
    }
}

#[cfg(test)]
mod plan_tests {
    use super::super::error::NetworkConfigError;
    use super::super::plan::compile;
    use super::super::spec::{Bridge, Network, Veth};
    use super::*;
    use crate::namespaces::Namespaces;

    fn bridged(name: &str) -> Network {
        let veth = Veth::new(Ipv4Addr::new(10, 9, 0, 2), Ipv4Addr::new(10, 9, 0, 1), 24);
        Network::Veth(veth.bridge(Bridge::new(name)))
    }

    #[test]
    fn a_bridge_is_checked_at_build_and_the_gateway_is_the_host_address() {
        let (_, plan) = compile(Some(&bridged("isobr0")), Namespaces::USER, true).unwrap();
        let veth = plan.veth().unwrap();
        assert_eq!(veth.bridge.as_deref(), Some("isobr0"));
        assert_eq!((veth.host_address, veth.prefix), (Ipv4Addr::new(10, 9, 0, 1), 24));
        let err = compile(Some(&bridged("far-too-long-a-name")), Namespaces::USER, true).unwrap_err();
        assert!(matches!(err, NetworkConfigError::BridgeName { .. }), "{err}");
        // The address rules are those of a pair: the gateway and the sandbox in one subnet.
        let apart = Veth::new(Ipv4Addr::new(10, 9, 1, 2), Ipv4Addr::new(10, 9, 0, 1), 24).bridge(Bridge::new("b"));
        let err = compile(Some(&Network::Veth(apart)), Namespaces::USER, true).unwrap_err();
        assert!(matches!(err, NetworkConfigError::DifferentSubnets { .. }), "{err}");
        let (_, plain) = compile(Some(&bridged("b").clone()), Namespaces::USER, true).unwrap();
        assert!(plain.veth().is_some());
        let none = Veth::new(Ipv4Addr::new(10, 9, 0, 2), Ipv4Addr::new(10, 9, 0, 1), 24);
        let (_, plain) = compile(Some(&Network::Veth(none)), Namespaces::USER, true).unwrap();
        assert_eq!(plain.veth().unwrap().bridge, None, "no bridge by default");
    }
}
