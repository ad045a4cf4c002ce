//! Networking inside the sandbox: a network namespace has loopback only, planned at `build()`
//! ([`plan`]) and brought up by the **child** ([`apply`]); [`describe`] names it. Veth,
//! user-mode networking and bandwidth limits will live here.

pub(crate) mod apply;
pub(crate) mod describe;
pub(crate) mod netlink;
pub(crate) mod plan;
pub(crate) mod usermode;
