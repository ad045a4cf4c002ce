//! isobox's own minimal rtnetlink (**parent**; the message writer is built for the **child**
//! too): links (veth, ifb, up, namespace moves, delete), IPv4 addresses and routes, and tc
//! (tbf and ingress qdiscs, a matchall filter redirecting to an ifb), with typed errors
//! ([`error::NetlinkError`]: the operation, the interface, the errno, the kernel's message).
//!
//! - [`writer`]: a message in a fixed `[u8; N]` buffer (header, attributes, nests, alignment),
//!   no allocation: the parent can encode what a child sends later.
//! - [`consts`]: the kernel's numbers and family headers; [`parse`]: replies and acks.
//! - [`socket`]: one request at a time over `sys::netlink`; [`link`], [`addr`], [`tc`]: the operations.
//!
//! Nothing outside the tests calls it yet: the veth network mode (issue 13) will.
#![allow(dead_code)]

pub(crate) mod addr;
pub(crate) mod bridge;
pub(crate) mod consts;
pub(crate) mod error;
pub(crate) mod link;
pub(crate) mod links;
pub(crate) mod parse;
pub(crate) mod socket;
pub(crate) mod stats;
pub(crate) mod tc;
pub(crate) mod writer;

#[cfg(test)]
mod ns_tests;
