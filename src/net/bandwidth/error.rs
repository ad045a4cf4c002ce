//! The bandwidth wing's errors (**parent**): a [`Bandwidth`](super::spec::Bandwidth) refused
//! at validation (the field and its value), a kernel lacking tbf, ifb or the redirect (with a
//! hint), a refused netlink request, and a read-back that does not match what was written.

use std::fmt;

use nix::errno::Errno;

use crate::net::netlink::error::{NetOp, NetlinkError};

/// Which part of a [`Bandwidth`](super::spec::Bandwidth) an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BandwidthField {
    /// The rate out of the sandbox.
    Egress,
    /// The rate into the sandbox.
    Ingress,
    /// The bucket size.
    Burst,
}

impl fmt::Display for BandwidthField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Egress => "egress rate",
            Self::Ingress => "ingress rate",
            Self::Burst => "burst",
        })
    }
}

/// A tbf parameter compared after it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TbfParam {
    /// The rate, bytes per second.
    Rate,
    /// The queue limit, bytes.
    Limit,
    /// The bucket, in the kernel's ticks of 64 ns.
    Bucket,
}

impl fmt::Display for TbfParam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rate => "rate (bytes/s)",
            Self::Limit => "limit (bytes)",
            Self::Bucket => "bucket (64 ns ticks)",
        })
    }
}

/// A bandwidth limit that was refused, or could not be applied, read back or removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BandwidthError {
    /// A rate of 0.
    #[error("bandwidth {field}: 0 bit/s; leave the direction unset for no limit")]
    Zero {
        /// The direction.
        field: BandwidthField,
    },
    /// A rate below what tbf can hold.
    #[error("bandwidth {field}: {value} bit/s is below the floor of {min} bit/s that tbf can hold")]
    RateTooLow {
        /// The direction.
        field: BandwidthField,
        /// The rate asked, bits per second.
        value: u64,
        /// The lowest rate accepted.
        min: u64,
    },
    /// A rate above what isobox accepts (its bucket and queue would not fit tbf's fields).
    #[error("bandwidth {field}: {value} bit/s is above the ceiling of {max} bit/s")]
    RateTooHigh {
        /// The direction.
        field: BandwidthField,
        /// The rate asked, bits per second.
        value: u64,
        /// The highest rate accepted.
        max: u64,
    },
    /// A burst too small for a full frame, or for the timer, at a direction's rate.
    #[error("bandwidth burst: {value} bytes is below {min} bytes (one 1514-byte frame, and 1 ms at the {field})")]
    BurstTooSmall {
        /// The direction whose rate needs more.
        field: BandwidthField,
        /// The burst asked, bytes.
        value: u32,
        /// The smallest burst for that rate.
        min: u64,
    },
    /// A burst whose bucket or queue would overflow the kernel's 32-bit fields at a rate.
    #[error("bandwidth burst: {value} bytes is above {max} bytes, the most tbf can report at the {field}")]
    BurstTooLarge {
        /// The direction whose rate allows less.
        field: BandwidthField,
        /// The burst asked, bytes.
        value: u32,
        /// The largest burst for that rate.
        max: u64,
    },
    /// A burst without any rate.
    #[error("bandwidth burst: {value} bytes given without an egress or ingress rate")]
    BurstWithoutRate {
        /// The burst asked, bytes.
        value: u32,
    },
    /// The kernel lacks a qdisc, link kind, classifier or action the limit needs.
    #[error("bandwidth limit needs {feature}, which this kernel lacks: {source}")]
    KernelLacks {
        /// What is missing (`the tbf qdisc`, `ifb devices`, …).
        feature: &'static str,
        /// The refused request (its hint says which module to load).
        source: NetlinkError,
    },
    /// A netlink request was refused.
    #[error("bandwidth limit: {0}")]
    Netlink(#[source] NetlinkError),
    /// The root qdisc read back is not the tbf written.
    #[error("bandwidth limit on {ifname:?}: read back a {kind:?} root qdisc instead of the tbf written")]
    NotTbf {
        /// The link.
        ifname: String,
        /// The kind found.
        kind: String,
    },
    /// The veth's ingress does not read back as redirected to its ifb (and only there).
    #[error("bandwidth limit on {ifname:?}: its ingress is not redirected to {ifb:?} alone (read back: redirects to link indexes {found:?})")]
    NotRedirected {
        /// The host-side veth.
        ifname: String,
        /// The ifb it should redirect to.
        ifb: String,
        /// The link indexes its ingress filters redirect to.
        found: Vec<u32>,
    },
    /// A tbf parameter read back differs from the one written: never a silent downgrade.
    #[error("bandwidth limit on {ifname:?}: wrote {param} {asked}, read back {found}")]
    ReadBack {
        /// The link.
        ifname: String,
        /// The parameter.
        param: TbfParam,
        /// What was written.
        asked: u64,
        /// What the kernel reports (0 if it reports none).
        found: u64,
    },
}

impl BandwidthError {
    /// A hint when the host, not the request, is the likely cause.
    #[must_use]
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::KernelLacks { source, .. } | Self::Netlink(source) => source.hint(),
            _ => None,
        }
    }

    /// The error of a refused request: [`BandwidthError::KernelLacks`] where the answer
    /// means a missing module, else [`BandwidthError::Netlink`].
    pub(crate) fn from_netlink(source: NetlinkError, qdisc: &'static str) -> Self {
        let feature = match (source.op, source.errno) {
            (NetOp::AddQdisc, Errno::ENOENT | Errno::EOPNOTSUPP) => Some(qdisc),
            (NetOp::CreateIfb, Errno::EOPNOTSUPP) => Some("ifb devices"),
            (NetOp::AddFilter, Errno::ENOENT | Errno::EOPNOTSUPP) => {
                Some("the matchall (or u32) classifier and mirred action")
            }
            _ => None,
        };
        match feature {
            Some(feature) => Self::KernelLacks { feature, source },
            None => Self::Netlink(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hint;

    #[test]
    fn a_missing_module_is_typed_with_a_hint() {
        let tbf = NetlinkError::new(NetOp::AddQdisc, Some("ibx0"), Errno::ENOENT);
        let e = BandwidthError::from_netlink(tbf, "the tbf qdisc");
        assert!(matches!(e, BandwidthError::KernelLacks { feature: "the tbf qdisc", .. }), "{e:?}");
        assert!(e.hint().is_some_and(|h| h.contains("sch_tbf")));
        assert!(e.to_string().ends_with(&hint::suffix(e.hint())), "{e}");
        let ifb = NetlinkError::new(NetOp::CreateIfb, Some("ibxifb0"), Errno::EOPNOTSUPP);
        let e = BandwidthError::from_netlink(ifb, "the tbf qdisc");
        assert!(e.to_string().contains("needs ifb devices") && e.to_string().contains("modprobe ifb"), "{e}");
        let exists = NetlinkError::new(NetOp::AddQdisc, Some("ibx0"), Errno::EEXIST);
        let e = BandwidthError::from_netlink(exists, "the tbf qdisc");
        assert!(matches!(e, BandwidthError::Netlink(_)) && e.hint().is_none(), "{e:?}");
    }
}
