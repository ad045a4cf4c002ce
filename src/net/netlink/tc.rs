//! Traffic control (**parent**): a `tbf` root qdisc (a rate limit), an `ingress` qdisc, a u32
//! match-all filter redirecting what arrives to an ifb device (`mirred egress redirect`), and
//! reading a link's root qdisc and its ingress redirects back, so that what is written is
//! read back.

use nix::errno::Errno;

use super::consts::*;
use super::error::{NetOp, NetlinkError};
use super::link;
use super::parse;
use super::socket::{Context, Netlink, Request};

/// The root of a link's egress qdisc tree.
const TC_H_ROOT: u32 = 0xFFFF_FFFF;
const TCA_KIND: u16 = 1;
const TCA_OPTIONS: u16 = 2;
/// The parent of an ingress qdisc, and its handle `ffff:`.
const TC_H_INGRESS: u32 = 0xFFFF_FFF1;
const INGRESS_HANDLE: u32 = 0xFFFF_0000;
/// The tbf's handle, `1:`.
const TBF_HANDLE: u32 = 0x0001_0000;
const TCA_TBF_PARMS: u16 = 1;
const TCA_TBF_RATE64: u16 = 4;
const TCA_TBF_BURST: u16 = 6;
const TC_LINKLAYER_ETHERNET: u8 = 1;
/// `PSCHED_SHIFT`: a tbf's buffer is in ticks of 64 ns.
const PSCHED_SHIFT: u32 = 6;
const TCA_U32_SEL: u16 = 5;
const TCA_U32_ACT: u16 = 7;
const TC_U32_TERMINAL: u8 = 1;
const TCA_ACT_KIND: u16 = 1;
const TCA_ACT_OPTIONS: u16 = 2;
const TCA_MIRRED_PARMS: u16 = 2;
const TCA_EGRESS_REDIR: i32 = 1;
const TC_ACT_STOLEN: i32 = 4;
const ETH_P_ALL: u16 = 0x0003;

/// A token bucket: `rate` bytes per second, bursts of `burst` bytes, `limit` bytes queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tbf {
    /// Bytes per second.
    pub rate: u64,
    /// The bucket's size in bytes.
    pub burst: u32,
    /// The queue's size in bytes (packets beyond it are dropped).
    pub limit: u32,
}

/// A link's root qdisc as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Qdisc {
    /// Its kind (`tbf`, `noqueue`, `pfifo_fast`, …).
    pub kind: String,
    /// Its handle.
    pub handle: u32,
    /// For a tbf: the rate (bytes per second) and the queue limit (bytes).
    pub tbf: Option<(u64, u32)>,
}

/// Puts a `tbf` qdisc at the root of link `ifname` (`EEXIST` if it has a root qdisc of its own).
pub(crate) fn add_tbf(nl: &mut Netlink, ifname: &str, tbf: Tbf) -> Result<(), NetlinkError> {
    let cx = Context { op: NetOp::AddQdisc, ifname: Some(ifname) };
    if tbf.rate == 0 || tbf.burst == 0 {
        return Err(cx.error(Errno::EINVAL));
    }
    let mut req = new_tc(nl, RTM_NEWQDISC, ifname, cx, TBF_HANDLE, TC_H_ROOT, 0)?;
    req.attr_str(TCA_KIND, "tbf");
    let options = req.begin_nest(TCA_OPTIONS);
    req.attr(TCA_TBF_PARMS, &tbf_qopt(tbf));
    req.attr_u64(TCA_TBF_RATE64, tbf.rate);
    req.attr_u32(TCA_TBF_BURST, tbf.burst);
    req.end_nest(options);
    nl.ack(&mut req, cx)
}

/// `struct tc_tbf_qopt`: the rate (saturated at `u32::MAX`, `TCA_TBF_RATE64` carries the
/// rest), no peak rate, the limit and the bucket as a time in ticks.
fn tbf_qopt(tbf: Tbf) -> [u8; 36] {
    let mut b = [0u8; 36];
    b[1] = TC_LINKLAYER_ETHERNET;
    b[8..12].copy_from_slice(&u32::try_from(tbf.rate).unwrap_or(u32::MAX).to_ne_bytes());
    b[24..28].copy_from_slice(&tbf.limit.to_ne_bytes());
    let ns = u128::from(tbf.burst) * 1_000_000_000 / u128::from(tbf.rate);
    b[28..32].copy_from_slice(&u32::try_from(ns >> PSCHED_SHIFT).unwrap_or(u32::MAX).to_ne_bytes());
    b
}

/// Adds the `ingress` qdisc (`ffff:`) to link `ifname`.
pub(crate) fn add_ingress(nl: &mut Netlink, ifname: &str) -> Result<(), NetlinkError> {
    let cx = Context { op: NetOp::AddQdisc, ifname: Some(ifname) };
    let mut req = new_tc(nl, RTM_NEWQDISC, ifname, cx, INGRESS_HANDLE, TC_H_INGRESS, 0)?;
    req.attr_str(TCA_KIND, "ingress");
    nl.ack(&mut req, cx)
}

/// Redirects every packet arriving at `ifname` (whose ingress qdisc must exist) to the egress
/// of `target` (an ifb): a u32 filter matching all, with a `mirred egress redirect` action.
pub(crate) fn redirect_ingress(nl: &mut Netlink, ifname: &str, target: &str) -> Result<(), NetlinkError> {
    let cx = Context { op: NetOp::AddFilter, ifname: Some(ifname) };
    let to = link::index(nl, target).map_err(|e| NetlinkError { op: cx.op, ..e })?;
    let info = (1 << 16) | u32::from(ETH_P_ALL.to_be());
    let mut req = new_tc(nl, RTM_NEWTFILTER, ifname, cx, 0, INGRESS_HANDLE, info)?;
    req.attr_str(TCA_KIND, "u32");
    let options = req.begin_nest(TCA_OPTIONS);
    req.attr(TCA_U32_SEL, &match_all());
    let actions = req.begin_nest(TCA_U32_ACT);
    let first = req.begin_nest(1);
    req.attr_str(TCA_ACT_KIND, "mirred");
    let act_options = req.begin_nest(TCA_ACT_OPTIONS);
    req.attr(TCA_MIRRED_PARMS, &mirred(to));
    req.end_nest(act_options);
    req.end_nest(first);
    req.end_nest(actions);
    req.end_nest(options);
    nl.ack(&mut req, cx)
}

/// `struct tc_u32_sel` with one key of mask 0 (`match u32 0 0`), terminal.
fn match_all() -> [u8; 32] {
    let mut b = [0u8; 32];
    b[0] = TC_U32_TERMINAL;
    b[2] = 1;
    b
}

/// `struct tc_mirred`: stolen, redirected to the egress of link `to`.
fn mirred(to: u32) -> [u8; 28] {
    let mut b = [0u8; 28];
    b[8..12].copy_from_slice(&TC_ACT_STOLEN.to_ne_bytes());
    b[20..24].copy_from_slice(&TCA_EGRESS_REDIR.to_ne_bytes());
    b[24..28].copy_from_slice(&to.to_ne_bytes());
    b
}

/// The links (by index) that the filters of link `ifname`'s ingress qdisc redirect to
/// (`mirred egress redirect` actions, `RTM_GETTFILTER` dump of that qdisc): empty without
/// an ingress qdisc or redirect. One request, whatever the number of links.
pub(crate) fn ingress_redirects(nl: &mut Netlink, ifname: &str) -> Result<Vec<u32>, NetlinkError> {
    let cx = Context { op: NetOp::GetFilter, ifname: Some(ifname) };
    let index = link::index(nl, ifname).map_err(|e| NetlinkError { op: cx.op, ..e })?;
    let mut req = nl.request(RTM_GETTFILTER, NLM_F_DUMP, true);
    req.put(&tcmsg(index as i32, 0, INGRESS_HANDLE, 0));
    let mut targets = Vec::new();
    nl.transact(&mut req, cx, |msg| {
        if msg.kind == RTM_NEWTFILTER && parse::u32_at(msg.payload, 4) == Some(index) {
            targets.extend(redirects(msg.payload));
        }
    })?;
    Ok(targets)
}

/// The targets of a u32 filter's mirred egress redirects, from a `tcmsg` and its attributes.
fn redirects(payload: &[u8]) -> Vec<u32> {
    let actions = payload.get(20..).and_then(|a| parse::find(a, TCA_OPTIONS)).and_then(|o| parse::find(o, TCA_U32_ACT));
    let mirred = |act: &[u8]| -> Option<u32> {
        (parse::text(parse::find(act, TCA_ACT_KIND)?) == "mirred").then_some(())?;
        let parms = parse::find(parse::find(act, TCA_ACT_OPTIONS)?, TCA_MIRRED_PARMS)?;
        let redirect = parse::u32_at(parms, 20)? == TCA_EGRESS_REDIR as u32;
        redirect.then(|| parse::u32_at(parms, 24)).flatten()
    };
    actions.map(|a| parse::attrs(a).filter_map(|(_, act)| mirred(act)).collect()).unwrap_or_default()
}

/// The root qdisc of link `ifname` (`RTM_GETQDISC` dump), `ENOENT` if it reports none.
pub(crate) fn root_qdisc(nl: &mut Netlink, ifname: &str) -> Result<Qdisc, NetlinkError> {
    let cx = Context { op: NetOp::GetQdisc, ifname: Some(ifname) };
    let index = link::index(nl, ifname).map_err(|e| NetlinkError { op: cx.op, ..e })?;
    let mut req = nl.request(RTM_GETQDISC, NLM_F_DUMP, true);
    req.put(&tcmsg(0, 0, 0, 0));
    let mut found = None;
    nl.transact(&mut req, cx, |msg| {
        let on_link = parse::u32_at(msg.payload, 4) == Some(index);
        let root = parse::u32_at(msg.payload, 12) == Some(TC_H_ROOT);
        if msg.kind == RTM_NEWQDISC && on_link && root && found.is_none() {
            found = qdisc(msg.payload);
        }
    })?;
    found.ok_or_else(|| cx.error(Errno::ENOENT))
}

/// A qdisc from a `tcmsg` and its attributes.
fn qdisc(payload: &[u8]) -> Option<Qdisc> {
    let handle = parse::u32_at(payload, 8)?;
    let attrs = payload.get(20..)?;
    let kind = parse::text(parse::find(attrs, TCA_KIND)?);
    let tbf = (kind == "tbf").then(|| parse::find(attrs, TCA_OPTIONS)).flatten().and_then(|options| {
        let qopt = parse::find(options, TCA_TBF_PARMS)?;
        let rate32 = u64::from(parse::u32_at(qopt, 8)?);
        let rate = parse::find(options, TCA_TBF_RATE64).and_then(|r| parse::u64_at(r, 0)).unwrap_or(rate32);
        Some((rate, parse::u32_at(qopt, 24)?))
    });
    Some(Qdisc { kind, handle, tbf })
}

/// The start of a tc request of type `kind` on link `ifname` (looked up for its index).
fn new_tc(
    nl: &mut Netlink,
    kind: u16,
    ifname: &str,
    cx: Context<'_>,
    handle: u32,
    parent: u32,
    info: u32,
) -> Result<Request, NetlinkError> {
    let index = link::index(nl, ifname).map_err(|e| NetlinkError { op: cx.op, ..e })?;
    let mut req = nl.request(kind, NLM_F_CREATE | NLM_F_EXCL, false);
    req.put(&tcmsg(index as i32, handle, parent, info));
    Ok(req)
}
