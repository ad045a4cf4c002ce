//! A link's root qdisc with its counters (**parent**), from an `RTM_GETQDISC` dump:
//! `TCA_STATS2` → `TCA_STATS_BASIC` (bytes, packets; `TCA_STATS_PKT64` when packets pass
//! `u32`) and `TCA_STATS_QUEUE` (backlog, drops, overlimits), and for a tbf the bucket as the
//! kernel reports it (`tc_tbf_qopt.buffer`, in 64 ns ticks), which `tc::root_qdisc` leaves out.

use nix::errno::Errno;

use super::consts::{tcmsg, NLM_F_DUMP, RTM_GETQDISC, RTM_NEWQDISC};
use super::error::{NetOp, NetlinkError};
use super::link;
use super::parse;
use super::socket::{Context, Netlink};

const TC_H_ROOT: u32 = 0xFFFF_FFFF;
const TCA_KIND: u16 = 1;
const TCA_OPTIONS: u16 = 2;
const TCA_STATS2: u16 = 7;
const TCA_STATS_BASIC: u16 = 1;
const TCA_STATS_QUEUE: u16 = 3;
const TCA_STATS_PKT64: u16 = 8;
const TCA_TBF_PARMS: u16 = 1;
/// `struct tcmsg`'s size: the attributes follow it.
const TCMSG_LEN: usize = 20;

/// The counters of a link's root qdisc.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct RootStats {
    /// Its kind (`tbf`, `noqueue`, …).
    pub kind: String,
    /// Bytes it sent on (dequeued).
    pub bytes: u64,
    /// Packets it sent on.
    pub packets: u64,
    /// Packets it dropped.
    pub drops: u32,
    /// Times it held a packet back (for a tbf: out of tokens).
    pub overlimits: u32,
    /// Bytes queued now.
    pub backlog: u32,
    /// For a tbf: its bucket in ticks of 64 ns, as the kernel reports it.
    pub tbf_buffer: Option<u32>,
}

/// The root qdisc of link `ifname` with its counters; `ENOENT` if it reports none.
pub(crate) fn root_stats(nl: &mut Netlink, ifname: &str) -> Result<RootStats, NetlinkError> {
    let cx = Context { op: NetOp::GetQdisc, ifname: Some(ifname) };
    let index = link::index(nl, ifname).map_err(|e| NetlinkError { op: cx.op, ..e })?;
    let mut req = nl.request(RTM_GETQDISC, NLM_F_DUMP, true);
    req.put(&tcmsg(0, 0, 0, 0));
    let mut found = None;
    nl.transact(&mut req, cx, |msg| {
        if msg.kind == RTM_NEWQDISC && found.is_none() {
            found = parse_root(msg.payload, index);
        }
    })?;
    found.ok_or_else(|| cx.error(Errno::ENOENT))
}

/// The root qdisc in an `RTM_NEWQDISC` payload (a `tcmsg` and attributes) if it is link
/// `index`'s root; counters the kernel did not send stay 0.
pub(crate) fn parse_root(payload: &[u8], index: u32) -> Option<RootStats> {
    if parse::u32_at(payload, 4)? != index || parse::u32_at(payload, 12)? != TC_H_ROOT {
        return None;
    }
    let attrs = payload.get(TCMSG_LEN..)?;
    let mut stats = RootStats { kind: parse::text(parse::find(attrs, TCA_KIND)?), ..RootStats::default() };
    if let Some(stats2) = parse::find(attrs, TCA_STATS2) {
        if let Some(basic) = parse::find(stats2, TCA_STATS_BASIC) {
            stats.bytes = parse::u64_at(basic, 0).unwrap_or(0);
            stats.packets = parse::u32_at(basic, 8).map_or(0, u64::from);
        }
        if let Some(packets) = parse::find(stats2, TCA_STATS_PKT64).and_then(|p| parse::u64_at(p, 0)) {
            stats.packets = packets;
        }
        if let Some(queue) = parse::find(stats2, TCA_STATS_QUEUE) {
            stats.backlog = parse::u32_at(queue, 4).unwrap_or(0);
            stats.drops = parse::u32_at(queue, 8).unwrap_or(0);
            stats.overlimits = parse::u32_at(queue, 16).unwrap_or(0);
        }
    }
    if stats.kind == "tbf" {
        let qopt = parse::find(attrs, TCA_OPTIONS).and_then(|o| parse::find(o, TCA_TBF_PARMS));
        stats.tbf_buffer = qopt.and_then(|q| parse::u32_at(q, 28));
    }
    Some(stats)
}

#[cfg(test)]
mod tests {
    use super::super::writer::MsgWriter;
    use super::*;

    /// An `RTM_NEWQDISC` as the kernel dumps a tbf with its counters.
    fn tbf_dump(index: u32, parent: u32, pkt64: Option<u64>) -> Vec<u8> {
        let mut w = MsgWriter::<512>::new();
        w.begin(RTM_NEWQDISC, 2, 1);
        w.put(&tcmsg(index as i32, 0x0001_0000, parent, 1));
        w.attr_str(TCA_KIND, "tbf");
        let options = w.begin_nest(TCA_OPTIONS);
        let mut qopt = [0u8; 36];
        qopt[28..32].copy_from_slice(&12_345u32.to_ne_bytes());
        w.attr(TCA_TBF_PARMS, &qopt);
        w.end_nest(options);
        let stats2 = w.begin_nest(TCA_STATS2);
        let mut basic = [0u8; 16];
        basic[0..8].copy_from_slice(&(5u64 << 32).to_ne_bytes());
        basic[8..12].copy_from_slice(&700u32.to_ne_bytes());
        w.attr(TCA_STATS_BASIC, &basic);
        if let Some(p) = pkt64 {
            w.attr_u64(TCA_STATS_PKT64, p);
        }
        let queue: Vec<u8> = [0u32, 1500, 9, 0, 42].iter().flat_map(|v| v.to_ne_bytes()).collect();
        w.attr(TCA_STATS_QUEUE, &queue);
        w.end_nest(stats2);
        w.finish().unwrap().to_vec()
    }

    fn payload(datagram: &[u8]) -> &[u8] {
        parse::messages(datagram).next().unwrap().payload
    }

    #[test]
    fn a_root_tbf_gives_its_counters_and_bucket() {
        let msg = tbf_dump(7, TC_H_ROOT, None);
        let stats = parse_root(payload(&msg), 7).unwrap();
        let want = RootStats {
            kind: "tbf".into(),
            bytes: 5 << 32,
            packets: 700,
            drops: 9,
            overlimits: 42,
            backlog: 1500,
            tbf_buffer: Some(12_345),
        };
        assert_eq!(stats, want);
        let big = tbf_dump(7, TC_H_ROOT, Some(1 << 33));
        assert_eq!(parse_root(payload(&big), 7).unwrap().packets, 1 << 33);
    }

    #[test]
    fn another_link_or_a_child_qdisc_is_not_the_root() {
        assert_eq!(parse_root(payload(&tbf_dump(7, TC_H_ROOT, None)), 8), None);
        assert_eq!(parse_root(payload(&tbf_dump(7, 0x0001_0001, None)), 7), None);
        assert_eq!(parse_root(&[0u8; 10], 7), None);
    }
}
