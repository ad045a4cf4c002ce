//! Every link of a namespace with its alias, and setting an alias (**parent**): what the veth
//! sweep reads and writes. (Errors use `NetOp::GetLink` and `NetOp::SetLinkUp`: no new
//! operation names were added to `error.rs`.)

use super::consts::*;
use super::error::{NetOp, NetlinkError};
use super::parse;
use super::socket::{Context, Netlink};

/// `IFLA_IFALIAS`: a link's free-form alias (up to 255 bytes).
const IFLA_IFALIAS: u16 = 20;
/// The fixed header of a link message (`struct ifinfomsg`).
const IFINFOMSG_LEN: usize = 16;

/// One link of a dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LinkName {
    /// `IFLA_IFNAME`.
    pub name: String,
    /// `IFLA_IFALIAS`, if set.
    pub alias: Option<String>,
}

/// Every link of the socket's namespace (`RTM_GETLINK` dump).
pub(crate) fn list(nl: &mut Netlink) -> Result<Vec<LinkName>, NetlinkError> {
    let cx = Context { op: NetOp::GetLink, ifname: None };
    let mut req = nl.request(RTM_GETLINK, NLM_F_DUMP, true);
    req.put(&ifinfomsg(0, 0, 0));
    let mut links = Vec::new();
    nl.transact(&mut req, cx, |msg| {
        if msg.kind != RTM_NEWLINK {
            return;
        }
        let attrs = msg.payload.get(IFINFOMSG_LEN..).unwrap_or(&[]);
        if let Some(name) = parse::find(attrs, IFLA_IFNAME).map(parse::text) {
            let alias = parse::find(attrs, IFLA_IFALIAS).map(parse::text).filter(|a| !a.is_empty());
            links.push(LinkName { name, alias });
        }
    })?;
    Ok(links)
}

/// Sets the alias of link `name`.
pub(crate) fn set_alias(nl: &mut Netlink, name: &str, alias: &str) -> Result<(), NetlinkError> {
    let mut req = nl.request(RTM_NEWLINK, 0, false);
    req.put(&ifinfomsg(0, 0, 0));
    req.attr_str(IFLA_IFNAME, name);
    req.attr_str(IFLA_IFALIAS, alias);
    nl.ack(&mut req, Context { op: NetOp::SetLinkUp, ifname: Some(name) })
}
