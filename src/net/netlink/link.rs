//! Links (**parent**): index by name, up/down, veth pairs, ifb devices, moving into a network
//! namespace, deleting. Every link is named by `IFLA_IFNAME`, so the kernel resolves names in
//! the socket's namespace.

use std::os::fd::{AsRawFd, BorrowedFd};

use nix::errno::Errno;

use super::consts::*;
use super::error::{NetOp, NetlinkError};
use super::parse;
use super::socket::{Context, Netlink, Request};

/// The index of link `name` (`RTM_GETLINK`); `ENODEV` if there is none.
pub(crate) fn index(nl: &mut Netlink, name: &str) -> Result<u32, NetlinkError> {
    let cx = Context { op: NetOp::GetLink, ifname: Some(name) };
    let mut req = nl.request(RTM_GETLINK, 0, false);
    req.put(&ifinfomsg(0, 0, 0));
    req.attr_str(IFLA_IFNAME, name);
    let mut found = None;
    nl.transact(&mut req, cx, |msg| {
        if msg.kind == RTM_NEWLINK {
            found = parse::u32_at(msg.payload, 4);
        }
    })?;
    found.ok_or_else(|| cx.error(Errno::ENODEV))
}

/// Brings link `name` up or down (`IFF_UP` under its change mask).
pub(crate) fn set_up(nl: &mut Netlink, name: &str, up: bool) -> Result<(), NetlinkError> {
    let mut req = nl.request(RTM_NEWLINK, 0, false);
    req.put(&ifinfomsg(0, if up { IFF_UP } else { 0 }, IFF_UP));
    req.attr_str(IFLA_IFNAME, name);
    nl.ack(&mut req, Context { op: NetOp::SetLinkUp, ifname: Some(name) })
}

/// Creates the veth pair `name` ↔ `peer`; the peer is made directly inside `peer_netns` when
/// given (`IFLA_NET_NS_FD` in `VETH_INFO_PEER`). `EEXIST` if either name is taken.
pub(crate) fn create_veth(
    nl: &mut Netlink,
    name: &str,
    peer: &str,
    peer_netns: Option<BorrowedFd<'_>>,
) -> Result<(), NetlinkError> {
    let mut req = new_link(nl, name);
    let info = req.begin_nest(IFLA_LINKINFO);
    req.attr_str(IFLA_INFO_KIND, "veth");
    let data = req.begin_nest(IFLA_INFO_DATA);
    let peer_nest = req.begin_nest(VETH_INFO_PEER);
    req.put(&ifinfomsg(0, 0, 0));
    req.attr_str(IFLA_IFNAME, peer);
    if let Some(ns) = peer_netns {
        req.attr_u32(IFLA_NET_NS_FD, ns.as_raw_fd() as u32);
    }
    req.end_nest(peer_nest);
    req.end_nest(data);
    req.end_nest(info);
    nl.ack(&mut req, Context { op: NetOp::CreateVeth, ifname: Some(name) })
}

/// Creates the ifb device `name` (the target of an ingress redirect).
pub(crate) fn create_ifb(nl: &mut Netlink, name: &str) -> Result<(), NetlinkError> {
    let mut req = new_link(nl, name);
    let info = req.begin_nest(IFLA_LINKINFO);
    req.attr_str(IFLA_INFO_KIND, "ifb");
    req.end_nest(info);
    nl.ack(&mut req, Context { op: NetOp::CreateIfb, ifname: Some(name) })
}

/// Moves link `name` into the network namespace `netns` (a `/proc/<pid>/ns/net` descriptor).
pub(crate) fn move_to_netns(nl: &mut Netlink, name: &str, netns: BorrowedFd<'_>) -> Result<(), NetlinkError> {
    let mut req = nl.request(RTM_NEWLINK, 0, false);
    req.put(&ifinfomsg(0, 0, 0));
    req.attr_str(IFLA_IFNAME, name);
    req.attr_u32(IFLA_NET_NS_FD, netns.as_raw_fd() as u32);
    nl.ack(&mut req, Context { op: NetOp::MoveLink, ifname: Some(name) })
}

/// Deletes link `name` (for a veth, both ends go).
pub(crate) fn delete(nl: &mut Netlink, name: &str) -> Result<(), NetlinkError> {
    let mut req = nl.request(RTM_DELLINK, 0, false);
    req.put(&ifinfomsg(0, 0, 0));
    req.attr_str(IFLA_IFNAME, name);
    nl.ack(&mut req, Context { op: NetOp::DeleteLink, ifname: Some(name) })
}

/// The start of an `RTM_NEWLINK` that creates link `name` and fails if it exists.
fn new_link(nl: &mut Netlink, name: &str) -> Request {
    let mut req = nl.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, false);
    req.put(&ifinfomsg(0, 0, 0));
    req.attr_str(IFLA_IFNAME, name);
    req
}
