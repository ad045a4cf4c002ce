//! A [`BandwidthPlan`] put on a host-side veth (**parent** code, in the calling thread's
//! network namespace), read back, and removed.
//!
//! - Into the sandbox: a tbf root qdisc on the host-side veth (its egress).
//! - Out of the sandbox: the veth's ingress qdisc, a matchall filter with a `mirred
//!   egress redirect` to an ifb created here, and a tbf root qdisc on the ifb (this kernel
//!   has no `police` action, and a redirect shapes instead of dropping).
//!
//! Each tbf is read back after it is written, and the redirect's target; a difference is an
//! error. The veth's qdiscs go with the veth; [`remove`] deletes the ifb. The veth network
//! mode makes and marks the ifb itself ([`create_ifb`], then [`shape`]).

use super::error::BandwidthError;
use super::plan::{check_readback, BandwidthPlan};
use crate::net::netlink::error::NetlinkError;
use crate::net::netlink::link;
use crate::net::netlink::socket::Netlink;
use crate::net::netlink::stats::root_stats;
use crate::net::netlink::tc::{self, Tbf};

const TBF: &str = "the tbf qdisc";
const INGRESS: &str = "the ingress qdisc";

/// What [`apply`] set up: what [`verify`], [`super::stats::stats`] and [`remove`] work on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Applied {
    /// The host-side veth.
    pub host_if: String,
    /// The ifb the sandbox's egress is redirected to, if limited.
    pub ifb: Option<String>,
    /// The tbf on the veth (into the sandbox).
    pub ingress: Option<Tbf>,
    /// The tbf on the ifb (out of the sandbox).
    pub egress: Option<Tbf>,
}

impl Applied {
    /// Each shaped link with its tbf.
    pub(crate) fn shaped(&self) -> impl Iterator<Item = (&str, Tbf)> {
        let ingress = self.ingress.map(|t| (self.host_if.as_str(), t));
        let egress = self.egress.zip(self.ifb.as_deref()).map(|(t, ifb)| (ifb, t));
        ingress.into_iter().chain(egress)
    }
}

/// Shapes the host-side veth `host_if` by `plan`, creating the ifb `ifb_name` if egress is
/// limited, and reads every tbf back. On an error the ifb is deleted again.
pub(crate) fn apply(
    nl: &mut Netlink,
    host_if: &str,
    ifb_name: &str,
    plan: &BandwidthPlan,
) -> Result<Applied, BandwidthError> {
    if plan.egress.is_some() {
        create_ifb(nl, ifb_name)?;
    }
    let done = shape(nl, host_if, ifb_name, plan);
    if done.is_err() && plan.egress.is_some() {
        // Best effort: the error that matters is the first one.
        let _ = link::delete(nl, ifb_name);
    }
    done
}

/// Creates the ifb `name`, down (for [`shape`]; the caller deletes it).
pub(crate) fn create_ifb(nl: &mut Netlink, name: &str) -> Result<(), BandwidthError> {
    link::create_ifb(nl, name).map_err(refused(TBF))
}

/// [`apply`] with the ifb `ifb` already made by [`create_ifb`] if egress is limited (the
/// caller marks it first, and deletes it on an error too): brought up, shaped, the veth's
/// ingress redirected to it; everything read back.
pub(crate) fn shape(
    nl: &mut Netlink,
    host_if: &str,
    ifb: &str,
    plan: &BandwidthPlan,
) -> Result<Applied, BandwidthError> {
    let ifb = plan.egress.map(|_| ifb.to_owned());
    let applied = Applied { host_if: host_if.into(), ifb, ingress: plan.ingress, egress: plan.egress };
    if let Some(tbf) = plan.ingress {
        tc::add_tbf(nl, host_if, tbf).map_err(refused(TBF))?;
    }
    if let (Some(tbf), Some(ifb)) = (plan.egress, &applied.ifb) {
        redirect(nl, host_if, ifb, tbf)?;
    }
    verify(nl, &applied)?;
    Ok(applied)
}

/// The egress half: the ifb up with its tbf, then the veth's traffic redirected to it.
fn redirect(nl: &mut Netlink, host_if: &str, ifb: &str, tbf: Tbf) -> Result<(), BandwidthError> {
    link::set_up(nl, ifb, true).map_err(refused(TBF))?;
    tc::add_tbf(nl, ifb, tbf).map_err(refused(TBF))?;
    tc::add_ingress(nl, host_if).map_err(refused(INGRESS))?;
    tc::redirect_ingress(nl, host_if, ifb).map_err(refused(INGRESS))
}

/// The error of a refused request, naming `qdisc` if the kernel lacks it.
fn refused(qdisc: &'static str) -> impl Fn(NetlinkError) -> BandwidthError {
    move |e| BandwidthError::from_netlink(e, qdisc)
}

/// Reads every tbf of `applied` back and compares it with what was written, and with an
/// ifb, that the veth's ingress redirects to it and nowhere else (the filter is read through
/// the ingress qdisc, so that qdisc is there too).
pub(crate) fn verify(nl: &mut Netlink, applied: &Applied) -> Result<(), BandwidthError> {
    for (ifname, tbf) in applied.shaped() {
        let found = tc::root_qdisc(nl, ifname).map_err(BandwidthError::Netlink)?;
        let ticks = root_stats(nl, ifname).map_err(BandwidthError::Netlink)?.tbf_buffer;
        check_readback(ifname, tbf, &found, ticks)?;
    }
    if let Some(ifb) = &applied.ifb {
        let want = link::index(nl, ifb).map_err(BandwidthError::Netlink)?;
        let found = tc::ingress_redirects(nl, &applied.host_if).map_err(BandwidthError::Netlink)?;
        if found != [want] {
            return Err(BandwidthError::NotRedirected { ifname: applied.host_if.clone(), ifb: ifb.clone(), found });
        }
    }
    Ok(())
}

/// Deletes the ifb of `applied`, if any (the veth's own qdiscs go with the veth).
// The veth mode deletes its ifb with the pair, on the deleter thread: only the tests call this.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn remove(nl: &mut Netlink, applied: &Applied) -> Result<(), BandwidthError> {
    match &applied.ifb {
        Some(ifb) => link::delete(nl, ifb).map_err(BandwidthError::Netlink),
        None => Ok(()),
    }
}
