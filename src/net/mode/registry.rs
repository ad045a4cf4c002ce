//! The addresses of this process's live veth sandboxes (**parent**), so that two live ones
//! never clash.
//!
//! Without a bridge each pair's host end has its own address and route: two live pairs with
//! one host address (two spawns of one `Veth`) would give the host two equal routes, and one
//! sandbox the other's replies, so the host address is claimed. On a bridge the gateway
//! (`host_address`) is shared by design, and the *sandbox's* address is claimed on that bridge:
//! two live sandboxes with one address there would answer each other's ARP. Claims are per
//! network namespace of the spawning thread (its id).

use std::net::Ipv4Addr;
use std::os::unix::fs::MetadataExt;
use std::sync::Mutex;

use super::error::NetworkError;
use super::plan::VethPlan;

/// A claimed address: (network namespace id, the bridge if any, the address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claim {
    ns: u64,
    bridge: Option<String>,
    address: Ipv4Addr,
}

static LIVE: Mutex<Vec<Claim>> = Mutex::new(Vec::new());

fn live() -> std::sync::MutexGuard<'static, Vec<Claim>> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Claims what `plan` needs in the calling thread's network namespace, or says who has it.
/// `id` is the namespace's id ([`super::netns::current_id`]); without one (before Linux
/// 5.14) its inode stands in, which a later namespace can reuse once this one is gone.
pub(crate) fn claim(plan: &VethPlan, id: Option<u64>) -> Result<Claim, NetworkError> {
    let inode = || std::fs::metadata("/proc/thread-self/ns/net").map(|m| m.ino()).unwrap_or(0);
    claim_in(id.unwrap_or_else(inode), plan)
}

fn claim_in(ns: u64, plan: &VethPlan) -> Result<Claim, NetworkError> {
    let claim = match &plan.bridge {
        None => Claim { ns, bridge: None, address: plan.host_address },
        Some(bridge) => Claim { ns, bridge: Some(bridge.clone()), address: plan.address },
    };
    let mut live = live();
    if live.contains(&claim) {
        return Err(match claim.bridge {
            None => NetworkError::AddressInUse { address: claim.address },
            Some(bridge) => NetworkError::BridgeAddressInUse { bridge, address: claim.address },
        });
    }
    live.push(claim.clone());
    Ok(claim)
}

/// Gives a claim back (its sandbox ended, or its spawn failed).
pub(crate) fn release(claim: &Claim) {
    let mut live = live();
    if let Some(at) = live.iter().position(|c| c == claim) {
        live.swap_remove(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(address: [u8; 4], host: [u8; 4], bridge: Option<&str>) -> VethPlan {
        VethPlan {
            address: address.into(),
            host_address: host.into(),
            prefix: 24,
            default_route: true,
            bandwidth: None,
            ports: Vec::new(),
            nat: false,
            egress_at: crate::net::mode::plan::EgressAt::Eth0,
            bridge: bridge.map(str::to_owned),
        }
    }

    // A namespace id of the test's own, so parallel tests never share claims.
    const NS: u64 = u64::MAX - 7;

    #[test]
    fn a_bridge_shares_its_gateway_and_refuses_a_sandbox_address_twice() {
        let a = claim_in(NS, &plan([10, 9, 0, 2], [10, 9, 0, 1], Some("br-a"))).unwrap();
        let b = claim_in(NS, &plan([10, 9, 0, 3], [10, 9, 0, 1], Some("br-a"))).unwrap();
        let again = claim_in(NS, &plan([10, 9, 0, 2], [10, 9, 0, 1], Some("br-a"))).unwrap_err();
        assert!(matches!(&again, NetworkError::BridgeAddressInUse { bridge, .. } if bridge == "br-a"), "{again}");
        // The same address on another bridge, or in another namespace, is another link layer.
        let other = claim_in(NS, &plan([10, 9, 0, 2], [10, 9, 0, 1], Some("br-b"))).unwrap();
        let elsewhere = claim_in(NS - 1, &plan([10, 9, 0, 2], [10, 9, 0, 1], Some("br-a"))).unwrap();
        release(&a);
        let a = claim_in(NS, &plan([10, 9, 0, 2], [10, 9, 0, 1], Some("br-a"))).expect("released");
        for c in [a, b, other, elsewhere] {
            release(&c);
        }
    }

    #[test]
    fn without_a_bridge_the_host_address_is_claimed() {
        const NS2: u64 = NS - 100;
        let a = claim_in(NS2, &plan([10, 8, 0, 2], [10, 8, 0, 1], None)).unwrap();
        let twice = claim_in(NS2, &plan([10, 8, 0, 6], [10, 8, 0, 1], None)).unwrap_err();
        assert!(matches!(twice, NetworkError::AddressInUse { address } if address == Ipv4Addr::new(10, 8, 0, 1)));
        // A bridged sandbox whose own address is a plain pair's host address is another claim.
        let bridged = claim_in(NS2, &plan([10, 8, 0, 1], [10, 8, 0, 9], Some("br-c"))).unwrap();
        release(&a);
        release(&bridged);
        release(&a); // twice: nothing happens
        let b = claim_in(NS2, &plan([10, 8, 0, 2], [10, 8, 0, 1], None)).expect("released");
        release(&b);
    }
}
