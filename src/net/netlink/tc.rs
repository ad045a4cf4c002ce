//! Traffic control (**parent**): a `tbf` root qdisc (a rate limit), an `ingress` qdisc, a
//! `matchall` filter redirecting what arrives to an ifb device (`mirred egress redirect`), and
//! reading a link's root qdisc and its ingress redirects back, so that what is written is
//! read back. Not u32 `match u32 0 0`: its key reads 4 bytes at the network header, and a
//! frame with fewer after its Ethernet header fails the read, does not match and is not shaped.
//! A kernel without matchall (`CONFIG_NET_CLS_MATCHALL`, e.g. this project's host) gets a u32
//! filter with no key, which reads nothing and so matches every frame too.

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
/// `TCA_MATCHALL_ACT`: the nested actions of a matchall filter (kernel >= 4.8).
const TCA_MATCHALL_ACT: u16 = 2;
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

/// A classifier that matches every frame, whatever its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MatchAll {
    /// `matchall` (kernel >= 4.8, `cls_matchall`).
    Matchall,
    /// `u32` with no key (a selector of `nkeys == 0`, terminal): where matchall is missing.
    U32NoKey,
}

/// Redirects every packet arriving at `ifname` (whose ingress qdisc must exist) to the egress
/// of `target` (an ifb): a matchall filter, or where the kernel lacks it a u32 filter with no
/// key, with a `mirred egress redirect` action.
pub(crate) fn redirect_ingress(nl: &mut Netlink, ifname: &str, target: &str) -> Result<(), NetlinkError> {
    let cx = Context { op: NetOp::AddFilter, ifname: Some(ifname) };
    let to = link::index(nl, target).map_err(|e| NetlinkError { op: cx.op, ..e })?;
    match add_redirect(nl, ifname, cx, MatchAll::Matchall, to) {
        // The kernel lacks the classifier (or mirred, and the second try fails the same way).
        Err(e) if matches!(e.errno, Errno::ENOENT | Errno::EOPNOTSUPP) => {
            add_redirect(nl, ifname, cx, MatchAll::U32NoKey, to)
        }
        done => done,
    }
}

/// One filter of classifier `how` on the ingress of `ifname`, redirecting to link `to`.
fn add_redirect(nl: &mut Netlink, ifname: &str, cx: Context<'_>, how: MatchAll, to: u32) -> Result<(), NetlinkError> {
    let info = (1 << 16) | u32::from(ETH_P_ALL.to_be());
    let mut req = new_tc(nl, RTM_NEWTFILTER, ifname, cx, 0, INGRESS_HANDLE, info)?;
    let options = match how {
        MatchAll::Matchall => {
            req.attr_str(TCA_KIND, "matchall");
            let options = req.begin_nest(TCA_OPTIONS);
            (options, req.begin_nest(TCA_MATCHALL_ACT))
        }
        MatchAll::U32NoKey => {
            req.attr_str(TCA_KIND, "u32");
            let options = req.begin_nest(TCA_OPTIONS);
            req.attr(TCA_U32_SEL, &no_key());
            (options, req.begin_nest(TCA_U32_ACT))
        }
    };
    let first = req.begin_nest(1);
    req.attr_str(TCA_ACT_KIND, "mirred");
    let act_options = req.begin_nest(TCA_ACT_OPTIONS);
    req.attr(TCA_MIRRED_PARMS, &mirred(to));
    req.end_nest(act_options);
    req.end_nest(first);
    req.end_nest(options.1);
    req.end_nest(options.0);
    nl.ack(&mut req, cx)
}

/// `struct tc_u32_sel` with no key, terminal: nothing is read, every frame matches.
fn no_key() -> [u8; 16] {
    let mut b = [0u8; 16];
    b[0] = TC_U32_TERMINAL;
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

/// The links (by index) that the match-all filters of link `ifname`'s ingress qdisc redirect
/// to (`mirred egress redirect` actions of matchall or key-less u32 filters, `RTM_GETTFILTER`
/// dump of that qdisc): empty without an ingress qdisc or such a redirect (a filter with a
/// key is not counted: it may not see every frame). One request, whatever the number of links.
pub(crate) fn ingress_redirects(nl: &mut Netlink, ifname: &str) -> Result<Vec<u32>, NetlinkError> {
    let mut targets = Vec::new();
    each_ingress_filter(nl, ifname, |payload| targets.extend(redirects(payload)))?;
    Ok(targets)
}

/// Calls `f` with each filter message (`tcmsg` and attributes) of link `ifname`'s ingress
/// qdisc, from one `RTM_GETTFILTER` dump.
fn each_ingress_filter(nl: &mut Netlink, ifname: &str, mut f: impl FnMut(&[u8])) -> Result<(), NetlinkError> {
    let cx = Context { op: NetOp::GetFilter, ifname: Some(ifname) };
    let index = link::index(nl, ifname).map_err(|e| NetlinkError { op: cx.op, ..e })?;
    let mut req = nl.request(RTM_GETTFILTER, NLM_F_DUMP, true);
    req.put(&tcmsg(index as i32, 0, INGRESS_HANDLE, 0));
    nl.transact(&mut req, cx, |msg| {
        if msg.kind == RTM_NEWTFILTER && parse::u32_at(msg.payload, 4) == Some(index) {
            f(msg.payload);
        }
    })
}

/// The classifier kinds of the filters on link `ifname`'s ingress qdisc (tests: which of
/// matchall and u32 [`redirect_ingress`] used).
#[cfg(test)]
pub(crate) fn ingress_filter_kinds(nl: &mut Netlink, ifname: &str) -> Result<Vec<String>, NetlinkError> {
    let mut kinds = Vec::new();
    each_ingress_filter(nl, ifname, |payload| {
        kinds.extend(payload.get(20..).and_then(|attrs| parse::find(attrs, TCA_KIND)).map(parse::text));
    })?;
    Ok(kinds)
}

/// The targets of a match-all filter's mirred egress redirects, from a `tcmsg` and its attributes.
fn redirects(payload: &[u8]) -> Vec<u32> {
    let actions = payload.get(20..).and_then(match_all_actions);
    let mirred = |act: &[u8]| -> Option<u32> {
        (parse::text(parse::find(act, TCA_ACT_KIND)?) == "mirred").then_some(())?;
        let parms = parse::find(parse::find(act, TCA_ACT_OPTIONS)?, TCA_MIRRED_PARMS)?;
        let redirect = parse::u32_at(parms, 20)? == TCA_EGRESS_REDIR as u32;
        redirect.then(|| parse::u32_at(parms, 24)).flatten()
    };
    actions.map(|a| parse::attrs(a).filter_map(|(_, act)| mirred(act)).collect()).unwrap_or_default()
}

/// The actions of a filter that matches every frame (matchall, or u32 with no key, terminal).
fn match_all_actions(attrs: &[u8]) -> Option<&[u8]> {
    let options = parse::find(attrs, TCA_OPTIONS)?;
    match parse::text(parse::find(attrs, TCA_KIND)?).as_str() {
        "matchall" => parse::find(options, TCA_MATCHALL_ACT),
        "u32" => {
            let sel = parse::find(options, TCA_U32_SEL)?;
            let no_key = sel.get(2) == Some(&0) && sel.first().is_some_and(|f| f & TC_U32_TERMINAL != 0);
            no_key.then(|| parse::find(options, TCA_U32_ACT)).flatten()
        }
        _ => None,
    }
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
