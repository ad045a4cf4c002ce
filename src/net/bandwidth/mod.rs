//! Bandwidth limits on a sandbox's veth (issue 13 part 3), enforced by the host with tc:
//! [`spec::Bandwidth`] (what the user asks, bits per second each way), [`plan`] (checked and
//! compiled into tbf parameters, pure data), [`apply`] (**parent** code: tbf on the host-side
//! veth, and ifb + redirect + tbf for the sandbox's egress, each read back; removal),
//! [`stats`] (the tbfs' counters for the exit report), [`error`] (typed, with hints).
//!
//! The veth network mode (`net::mode::veth`) sets the ingress limit on its host end, and the
//! egress one there too ([`apply::create_ifb`], [`apply::shape`]) when the sandbox keeps
//! `CAP_NET_ADMIN` or `CAP_NET_RAW`; else on the sandbox's `eth0` with [`apply::apply`].

pub(crate) mod apply;
pub(crate) mod error;
pub(crate) mod plan;
pub(crate) mod spec;
pub(crate) mod stats;

#[cfg(test)]
mod apply_tests;
#[cfg(test)]
mod rate_tests;
