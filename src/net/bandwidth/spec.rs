//! The bandwidth limit a user asks for (**parent**: plain data, validated and compiled by
//! [`super::plan::compile`]).

/// Rate limits on a sandbox's veth, enforced by the host with tc (a tbf each way).
///
/// Rates are in **bits per second** of link-layer traffic (Ethernet frames, headers
/// included: TCP's payload over a 1500-byte MTU gets about 95% of it). Each direction is
/// optional; with neither, nothing is shaped. The burst (bytes, the token bucket's size) is
/// one for both directions; without it each direction gets 20 ms of its rate (at least 16 KiB).
///
/// Both limits are out of the sandbox's reach: the ingress one sits on the host end of the
/// veth; the egress one on the sandbox's own `eth0`, or on an ifb of the host side when the
/// sandbox keeps `CAP_NET_ADMIN` or `CAP_NET_RAW` (see [`Veth::bandwidth`](crate::Veth::bandwidth)).
///
/// ```
/// let bw = isobox::Bandwidth::new().egress(2_000_000).ingress(10_000_000).burst(32 << 10);
/// assert_eq!(bw.egress_bps(), Some(2_000_000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Bandwidth {
    pub(crate) egress_bps: Option<u64>,
    pub(crate) ingress_bps: Option<u64>,
    pub(crate) burst: Option<u32>,
}

impl Bandwidth {
    /// No limit in either direction.
    #[must_use]
    pub fn new() -> Bandwidth {
        Bandwidth::default()
    }

    /// Limits what the sandbox sends (its egress) to `bits_per_second`.
    #[must_use]
    pub fn egress(mut self, bits_per_second: u64) -> Bandwidth {
        self.egress_bps = Some(bits_per_second);
        self
    }

    /// Limits what the sandbox receives (its ingress) to `bits_per_second`.
    #[must_use]
    pub fn ingress(mut self, bits_per_second: u64) -> Bandwidth {
        self.ingress_bps = Some(bits_per_second);
        self
    }

    /// Sets the token bucket of both directions to `bytes` (at least one full frame and 1 ms
    /// at each rate).
    #[must_use]
    pub fn burst(mut self, bytes: u32) -> Bandwidth {
        self.burst = Some(bytes);
        self
    }

    /// The egress rate asked, bits per second.
    #[must_use]
    pub fn egress_bps(&self) -> Option<u64> {
        self.egress_bps
    }

    /// The ingress rate asked, bits per second.
    #[must_use]
    pub fn ingress_bps(&self) -> Option<u64> {
        self.ingress_bps
    }

    /// The burst asked, bytes.
    #[must_use]
    pub fn burst_bytes(&self) -> Option<u32> {
        self.burst
    }
}
