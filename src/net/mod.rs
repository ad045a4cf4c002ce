//! Networking inside the sandbox: a network namespace has loopback only, planned at `build()`
//! ([`plan`]) and brought up by the **child** ([`apply`]); [`describe`] names it. Veth,
//! user-mode networking and bandwidth limits will live here; the modes ([`mode`]: host,
//! loopback, a joined namespace, a veth pair) are set up by the parent.

pub(crate) mod apply;
pub(crate) mod bandwidth;
pub(crate) mod describe;
pub(crate) mod forward;
pub(crate) mod mode;
pub(crate) mod netlink;
pub(crate) mod plan;
#[cfg(test)]
pub(crate) mod test_kernel;
pub(crate) mod usermode;
