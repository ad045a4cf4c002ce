//! IPv4 addresses and routes (**parent**): `RTM_NEWADDR`, `RTM_NEWROUTE`.

use std::net::Ipv4Addr;

use super::consts::*;
use super::error::NetOp;
use super::error::NetlinkError;
use super::link;
use super::socket::{Context, Netlink};

/// Where a route leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouteTo {
    /// The default route (0.0.0.0/0) through this gateway.
    DefaultVia(Ipv4Addr),
    /// This prefix, directly on the link (scope link, no gateway).
    Prefix(Ipv4Addr, u8),
}

/// Adds `addr/prefix` to link `ifname` (`EEXIST` if it has it, `EINVAL` for a prefix above 32).
pub(crate) fn add_ipv4(nl: &mut Netlink, ifname: &str, addr: Ipv4Addr, prefix: u8) -> Result<(), NetlinkError> {
    let cx = Context { op: NetOp::AddAddress, ifname: Some(ifname) };
    let index = link::index(nl, ifname).map_err(|e| NetlinkError { op: cx.op, ..e })?;
    let mut req = nl.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, false);
    req.put(&ifaddrmsg(prefix, index));
    req.attr(IFA_LOCAL, &addr.octets());
    req.attr(IFA_ADDRESS, &addr.octets());
    nl.ack(&mut req, cx)
}

/// Adds a route through link `ifname` in the main table.
pub(crate) fn add_route(nl: &mut Netlink, ifname: &str, to: RouteTo) -> Result<(), NetlinkError> {
    let cx = Context { op: NetOp::AddRoute, ifname: Some(ifname) };
    let index = link::index(nl, ifname).map_err(|e| NetlinkError { op: cx.op, ..e })?;
    let mut req = nl.request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, false);
    match to {
        RouteTo::DefaultVia(gateway) => {
            req.put(&rtmsg(0, RT_SCOPE_UNIVERSE));
            req.attr(RTA_GATEWAY, &gateway.octets());
        }
        RouteTo::Prefix(dst, len) => {
            req.put(&rtmsg(len, RT_SCOPE_LINK));
            req.attr(RTA_DST, &dst.octets());
        }
    }
    req.attr_u32(RTA_OIF, index);
    nl.ack(&mut req, cx)
}
