//! What the bandwidth limits did, for the exit report (**parent**): the counters of each
//! direction's tbf, read from the kernel (`TCA_STATS2` of its root qdisc).

use super::apply::Applied;
use super::error::BandwidthError;
use crate::net::netlink::socket::Netlink;
use crate::net::netlink::stats::{root_stats, RootStats};

/// The counters of one direction's tbf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TbfStats {
    /// Bytes it let through (link layer: Ethernet frames).
    pub bytes: u64,
    /// Packets it let through.
    pub packets: u64,
    /// Packets it dropped (its queue was full).
    pub drops: u64,
    /// Times it held a packet back for want of tokens.
    pub overlimits: u64,
}

impl From<RootStats> for TbfStats {
    fn from(s: RootStats) -> Self {
        TbfStats { bytes: s.bytes, packets: s.packets, drops: s.drops.into(), overlimits: s.overlimits.into() }
    }
}

/// Network figures of a sandbox: its bandwidth limits' counters, `None` for a direction
/// without a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct NetStats {
    /// Out of the sandbox (the tbf on its `eth0`, or on the host side's ifb when it keeps
    /// `CAP_NET_ADMIN` or `CAP_NET_RAW`).
    pub egress: Option<TbfStats>,
    /// Into the sandbox (the host-side veth's tbf).
    pub ingress: Option<TbfStats>,
}

/// Reads the counters of what `applied` set up (before the veth is deleted).
pub(crate) fn stats(nl: &mut Netlink, applied: &Applied) -> Result<NetStats, BandwidthError> {
    let mut stats = NetStats::default();
    for (ifname, _) in applied.shaped() {
        let tbf = TbfStats::from(root_stats(nl, ifname).map_err(BandwidthError::Netlink)?);
        if Some(ifname) == applied.ifb.as_deref() {
            stats.egress = Some(tbf);
        } else {
            stats.ingress = Some(tbf);
        }
    }
    Ok(stats)
}
