//! A [`Bandwidth`] checked and compiled into tbf parameters (**parent**, pure data), and the
//! comparison of a tbf read back with the one written.
//!
//! How the parameters are picked, so that TCP's achieved rate stays within ±10% of the rate
//! asked (measured at 2 and 10 Mbit/s both ways, `rate_tests.rs`):
//! - **rate**: bits/8, rounded down; tbf counts whole frames (Ethernet header included), so a
//!   bulk TCP flow at MTU 1500 carries 1448 of every 1514 bytes (-4.4%, inside the budget).
//! - **burst** (the bucket): 20 ms of the rate, at least 16 KiB. tbf keeps the tokens that
//!   accrue while it waits for its timer or a late softirq (a loaded machine delays them by
//!   milliseconds), up to the bucket: a bucket of several ms keeps such delays from costing
//!   rate, and 20 ms is still under 1% of a 2–3 s measurement if it starts full.
//! - **limit** (the queue): the bucket plus 50 ms of the rate. A sender in the sandbox is not
//!   held back by TCP small queues (its packets leave its socket at the veth, before the ifb's
//!   tbf), so it fills the queue until a drop; a queue of tens of ms at the rate (8 frames at
//!   2 Mbit/s, 40 at 10) keeps the link busy while CUBIC recovers (it backs off to 70%).
//!   Much more would only add latency.
//!
//! Bounds: under 8 kbit/s one full frame needs more than 1.5 s of tokens (past TCP's
//! retransmission timer: the flow stalls instead of running at the rate); above 400 Gbit/s
//! the default queue no longer fits tbf's `u32` limit. The burst must hold a full frame and
//! 1 ms at the rate (a smaller bucket needs a wake-up per frame), and its time at the rate
//! must fit the `u32` of 64 ns ticks the kernel reports it in (274 s), so it can be read back.

use super::error::{BandwidthError, BandwidthField, TbfParam};
use super::spec::Bandwidth;
use crate::net::netlink::tc::{Qdisc, Tbf};

/// The lowest rate accepted, bits per second.
pub(crate) const MIN_RATE_BPS: u64 = 8_000;
/// The highest rate accepted, bits per second.
pub(crate) const MAX_RATE_BPS: u64 = 400_000_000_000;
/// The largest Ethernet frame at the standard MTU (1500 + 14).
pub(crate) const FRAME: u64 = 1514;
const DEFAULT_BURST_MS: u64 = 20;
const DEFAULT_BURST_MIN: u64 = 16 << 10;
const LATENCY_MS: u64 = 50;
/// `PSCHED_SHIFT`: the kernel reports a tbf's bucket in ticks of 64 ns.
const TICK_SHIFT: u32 = 6;

/// What the host-side veth gets: a tbf per limited direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct BandwidthPlan {
    /// Into the sandbox: the root qdisc of the host-side veth.
    pub ingress: Option<Tbf>,
    /// Out of the sandbox: the root qdisc of the ifb its traffic is redirected to (or of the
    /// sandbox's `eth0`: `net::mode::plan::EgressAt`).
    pub egress: Option<Tbf>,
}

impl BandwidthPlan {
    /// Whether nothing is shaped.
    pub(crate) fn is_empty(&self) -> bool {
        self.ingress.is_none() && self.egress.is_none()
    }
}

/// Checks `bw` and compiles it.
pub(crate) fn compile(bw: &Bandwidth) -> Result<BandwidthPlan, BandwidthError> {
    if let (Some(value), None, None) = (bw.burst, bw.egress_bps, bw.ingress_bps) {
        return Err(BandwidthError::BurstWithoutRate { value });
    }
    let tbf = |field, bps: Option<u64>| bps.map(|bps| tbf(field, bps, bw.burst)).transpose();
    Ok(BandwidthPlan {
        ingress: tbf(BandwidthField::Ingress, bw.ingress_bps)?,
        egress: tbf(BandwidthField::Egress, bw.egress_bps)?,
    })
}

/// One direction's tbf at `bps` bits per second.
fn tbf(field: BandwidthField, bps: u64, burst: Option<u32>) -> Result<Tbf, BandwidthError> {
    if bps == 0 {
        return Err(BandwidthError::Zero { field });
    }
    if bps < MIN_RATE_BPS {
        return Err(BandwidthError::RateTooLow { field, value: bps, min: MIN_RATE_BPS });
    }
    if bps > MAX_RATE_BPS {
        return Err(BandwidthError::RateTooHigh { field, value: bps, max: MAX_RATE_BPS });
    }
    let rate = bps / 8;
    let queue = rate * LATENCY_MS / 1000;
    let burst = match burst {
        None => (rate * DEFAULT_BURST_MS / 1000).max(DEFAULT_BURST_MIN),
        Some(value) => checked_burst(field, rate, queue, value)?,
    };
    // In range by the bounds above: burst + queue <= u32::MAX.
    let narrow = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    Ok(Tbf { rate, burst: narrow(burst), limit: narrow(burst + queue) })
}

/// A burst of `value` bytes checked against `rate` (bytes/s) and its `queue` (bytes).
fn checked_burst(field: BandwidthField, rate: u64, queue: u64, value: u32) -> Result<u64, BandwidthError> {
    let min = FRAME.max(rate / 1000);
    if u64::from(value) < min {
        return Err(BandwidthError::BurstTooSmall { field, value, min });
    }
    let by_ticks = (u128::from(u32::MAX) << TICK_SHIFT) * u128::from(rate) / 1_000_000_000;
    let max = u64::try_from(by_ticks).unwrap_or(u64::MAX).min(u64::from(u32::MAX) - queue);
    if u64::from(value) > max {
        return Err(BandwidthError::BurstTooLarge { field, value, max });
    }
    Ok(u64::from(value))
}

/// The bucket of `tbf` in the kernel's ticks, as it computes it from `TCA_TBF_BURST`.
pub(crate) fn bucket_ticks(tbf: Tbf) -> u64 {
    let ns = u128::from(tbf.burst) * 1_000_000_000 / u128::from(tbf.rate.max(1));
    u64::try_from(ns >> TICK_SHIFT).unwrap_or(u64::MAX)
}

/// Compares the tbf written to `ifname` with the root qdisc read back (and its bucket in
/// ticks). Rate and limit must be equal (the kernel keeps both as given); the bucket may be
/// one tick off (the kernel converts bytes to ns with a fixed-point reciprocal of the rate).
pub(crate) fn check_readback(
    ifname: &str,
    asked: Tbf,
    found: &Qdisc,
    ticks: Option<u32>,
) -> Result<(), BandwidthError> {
    let Some((rate, limit)) = found.tbf.filter(|_| found.kind == "tbf") else {
        return Err(BandwidthError::NotTbf { ifname: ifname.into(), kind: found.kind.clone() });
    };
    let mismatch = |param, asked, found| BandwidthError::ReadBack { ifname: ifname.into(), param, asked, found };
    if rate != asked.rate {
        return Err(mismatch(TbfParam::Rate, asked.rate, rate));
    }
    if limit != asked.limit {
        return Err(mismatch(TbfParam::Limit, asked.limit.into(), limit.into()));
    }
    let want = bucket_ticks(asked);
    let got = ticks.map_or(0, u64::from);
    if got.abs_diff(want) > 1 {
        return Err(mismatch(TbfParam::Bucket, want, got));
    }
    Ok(())
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
