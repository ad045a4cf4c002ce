//! Bridges (**parent**): creating one with a fixed hardware address, enslaving a link to it or
//! freeing it, setting a link's hardware address, and every link of a namespace with its kind,
//! alias and master (what the bridge's lifetime and sweep read).

use nix::errno::Errno;

use super::consts::*;
use super::error::{NetOp, NetlinkError};
use super::parse;
use super::socket::{Context, Netlink};

/// `IFLA_ADDRESS`: a link's hardware address.
const IFLA_ADDRESS: u16 = 1;
/// `IFLA_MASTER`: the index of the bridge a link is a port of (0: none).
const IFLA_MASTER: u16 = 10;
/// `IFLA_IFALIAS`.
const IFLA_IFALIAS: u16 = 20;
/// The fixed header of a link message (`struct ifinfomsg`).
const IFINFOMSG_LEN: usize = 16;

/// One link of a dump, as the bridge code needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LinkInfo {
    /// `IFLA_IFNAME`.
    pub name: String,
    /// Its index.
    pub index: u32,
    /// `IFLA_INFO_KIND` (`bridge`, `veth`, …), if the link has one.
    pub kind: Option<String>,
    /// `IFLA_IFALIAS`, if set.
    pub alias: Option<String>,
    /// The index of its bridge, if it is a port of one.
    pub master: Option<u32>,
    /// Whether it is up (`IFF_UP`).
    pub up: bool,
}

/// Creates the bridge `name` with the hardware address `mac` (set by isobox, so that it
/// does not follow its ports' addresses as they come and go). `EEXIST` if the name is taken.
pub(crate) fn create(nl: &mut Netlink, name: &str, mac: [u8; 6]) -> Result<(), NetlinkError> {
    let mut req = nl.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, false);
    req.put(&ifinfomsg(0, 0, 0));
    req.attr_str(IFLA_IFNAME, name);
    req.attr(IFLA_ADDRESS, &mac);
    let info = req.begin_nest(IFLA_LINKINFO);
    req.attr_str(IFLA_INFO_KIND, "bridge");
    req.end_nest(info);
    nl.ack(&mut req, Context { op: NetOp::CreateBridge, ifname: Some(name) })
}

/// Makes link `name` a port of the bridge of index `master` (0: of none).
pub(crate) fn set_master(nl: &mut Netlink, name: &str, master: u32) -> Result<(), NetlinkError> {
    let mut req = nl.request(RTM_NEWLINK, 0, false);
    req.put(&ifinfomsg(0, 0, 0));
    req.attr_str(IFLA_IFNAME, name);
    req.attr_u32(IFLA_MASTER, master);
    nl.ack(&mut req, Context { op: NetOp::SetMaster, ifname: Some(name) })
}

/// Sets the hardware address of link `name`.
pub(crate) fn set_mac(nl: &mut Netlink, name: &str, mac: [u8; 6]) -> Result<(), NetlinkError> {
    let mut req = nl.request(RTM_NEWLINK, 0, false);
    req.put(&ifinfomsg(0, 0, 0));
    req.attr_str(IFLA_IFNAME, name);
    req.attr(IFLA_ADDRESS, &mac);
    nl.ack(&mut req, Context { op: NetOp::SetAddress, ifname: Some(name) })
}

/// Link `name`, or `None` if there is none.
pub(crate) fn get(nl: &mut Netlink, name: &str) -> Result<Option<LinkInfo>, NetlinkError> {
    let cx = Context { op: NetOp::GetLink, ifname: Some(name) };
    let mut req = nl.request(RTM_GETLINK, 0, false);
    req.put(&ifinfomsg(0, 0, 0));
    req.attr_str(IFLA_IFNAME, name);
    let mut found = None;
    match nl.transact(&mut req, cx, |msg| {
        if msg.kind == RTM_NEWLINK {
            found = info(msg.payload);
        }
    }) {
        Err(e) if e.errno == Errno::ENODEV => Ok(None),
        Err(e) => Err(e),
        Ok(()) => Ok(found),
    }
}

/// Every link of the socket's namespace (`RTM_GETLINK` dump).
pub(crate) fn list(nl: &mut Netlink) -> Result<Vec<LinkInfo>, NetlinkError> {
    let cx = Context { op: NetOp::GetLink, ifname: None };
    let mut req = nl.request(RTM_GETLINK, NLM_F_DUMP, true);
    req.put(&ifinfomsg(0, 0, 0));
    let mut links = Vec::new();
    nl.transact(&mut req, cx, |msg| {
        if msg.kind == RTM_NEWLINK {
            links.extend(info(msg.payload));
        }
    })?;
    Ok(links)
}

/// A link message's name, index, kind, alias and master.
fn info(payload: &[u8]) -> Option<LinkInfo> {
    let index = parse::u32_at(payload, 4)?;
    let up = parse::u32_at(payload, 8)? & IFF_UP != 0;
    let attrs = payload.get(IFINFOMSG_LEN..)?;
    let name = parse::find(attrs, IFLA_IFNAME).map(parse::text)?;
    let kind = parse::find(attrs, IFLA_LINKINFO).and_then(|i| parse::find(i, IFLA_INFO_KIND)).map(parse::text);
    let alias = parse::find(attrs, IFLA_IFALIAS).map(parse::text).filter(|a| !a.is_empty());
    let master = parse::find(attrs, IFLA_MASTER).and_then(|m| parse::u32_at(m, 0)).filter(|&m| m != 0);
    Some(LinkInfo { name, index, kind, alias, master, up })
}

#[cfg(test)]
mod tests {
    use super::super::writer::MsgWriter;
    use super::*;

    #[test]
    fn a_link_message_gives_name_index_kind_alias_and_master() {
        let mut w = MsgWriter::<256>::new();
        w.begin(RTM_NEWLINK, 0, 1);
        w.put(&ifinfomsg(7, IFF_UP, 0));
        w.attr_str(IFLA_IFNAME, "isobr0");
        w.attr_u32(IFLA_MASTER, 3);
        w.attr_str(IFLA_IFALIAS, "isobox-bridge");
        let nest = w.begin_nest(IFLA_LINKINFO);
        w.attr_str(IFLA_INFO_KIND, "bridge");
        w.end_nest(nest);
        let msg = w.finish().unwrap().to_vec();
        let msg = parse::messages(&msg).next().unwrap();
        let got = info(msg.payload).unwrap();
        let want = LinkInfo {
            name: "isobr0".into(),
            index: 7,
            kind: Some("bridge".into()),
            alias: Some("isobox-bridge".into()),
            master: Some(3),
            up: true,
        };
        assert_eq!(got, want);
        assert_eq!(info(&msg.payload[..8]), None);
    }
}
