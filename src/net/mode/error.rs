//! A network mode's refusals (**parent**): at `build()` ([`NetworkConfigError`]) and at spawn
//! ([`NetworkError`]), each naming the operation, the object and the errno, with a hint where
//! the host or the caller is the cause.

use crate::net::bandwidth::error::BandwidthError;
use crate::net::mode::nat_error::NatError;
use crate::net::usermode::error::UserNetError;
use crate::net::usermode::spec::PortForward;
use std::io;
use std::net::Ipv4Addr;

use nix::errno::Errno;

use crate::hint;
use crate::net::netlink::error::NetlinkError;

/// A network mode `build()` refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkConfigError {
    /// A veth prefix length outside 16..=31 (a /32 leaves no subnet to share; shorter than
    /// /16 the host side's route would take traffic of the host's own routes).
    #[error("Network::Veth: prefix /{prefix} is not 16 to 31")]
    Prefix {
        /// The prefix given.
        prefix: u8,
    },
    /// The sandbox and the host side given the same address.
    #[error("Network::Veth: the sandbox and the host side both have {address}")]
    SameAddress {
        /// The address.
        address: Ipv4Addr,
    },
    /// The two addresses are not in one subnet of the prefix.
    #[error("Network::Veth: {address}/{prefix} and the host side's {host_address}/{prefix} are not in one subnet")]
    DifferentSubnets {
        /// The sandbox's address.
        address: Ipv4Addr,
        /// The host side's address.
        host_address: Ipv4Addr,
        /// The prefix.
        prefix: u8,
    },
    /// An address that is its subnet's network or broadcast address (prefixes up to /30).
    #[error("Network::Veth: {address} is the network or broadcast address of its /{prefix}")]
    ReservedAddress {
        /// The address.
        address: Ipv4Addr,
        /// The prefix.
        prefix: u8,
    },
    /// `Network::Veth` asked for by a caller that is not root.
    #[error("Network::Veth needs CAP_NET_ADMIN on the host (root){}", hint::suffix(Some(VETH_ROOTLESS_HINT)))]
    VethNeedsRoot,
    /// The veth's bandwidth limits cannot be enforced as asked.
    #[error("Network::Veth: {0}")]
    Bandwidth(#[from] BandwidthError),
    /// A veth port forward isobox cannot carry (UDP), or one port asked twice.
    #[error("Network::Veth: cannot forward {forward:?}: {why}")]
    VethPort {
        /// The forward.
        forward: PortForward,
        /// Why not.
        why: &'static str,
    },
    /// The user-mode network as asked is refused (a port, the MTU).
    #[error("Network::UserMode: {0}")]
    UserNet(#[from] UserNetError),
    /// A bridge name the kernel would refuse (`IFNAMSIZ`, characters).
    #[error("Network::Veth: bridge name {name:?}: {why}")]
    BridgeName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// `Network::UserMode` without a user namespace, which its helper joins.
    #[error("Network::UserMode needs Namespaces::USER (its helper joins the sandbox's user namespace)")]
    UserModeNeedsUserNamespace,
}

/// What to do instead of a veth without root.
pub(crate) const VETH_ROOTLESS_HINT: &str = "an unprivileged caller can use user-mode networking (pasta or \
     slirp4netns) for a way out, or Network::Loopback for none";

/// A network mode that could not be set up at spawn; nothing of the spawn is left.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// The spawning thread could not enter the namespace of `Network::Join`.
    #[error("Network::Join: entering the network namespace (setns CLONE_NEWNET) on the spawning thread: {errno}{}", hint::suffix(join_hint(*errno)))]
    Join {
        /// The kernel's error.
        errno: Errno,
    },
    /// A network namespace file could not be opened.
    #[error("opening {path}: {source}")]
    Open {
        /// `/proc/thread-self/ns/net` or `/proc/<pid>/ns/net`.
        path: String,
        /// The error.
        source: io::Error,
    },
    /// The spawning thread could not enter the sandbox's network namespace to configure
    /// `eth0` there.
    #[error("entering the sandbox's network namespace (process {pid}) to configure eth0: {errno}")]
    EnterSandbox {
        /// The sandbox's first process.
        pid: i32,
        /// The kernel's error.
        errno: Errno,
    },
    /// A netlink request of the veth's setup failed (its operation, link and errno).
    #[error("Network::Veth: {0}")]
    Veth(#[from] NetlinkError),
    /// Another live sandbox of this process has this host-side address in this namespace
    /// (two spawns of one `Veth` at once): each live pair needs addresses of its own.
    #[error(
        "Network::Veth: host-side address {address} is in use by another live sandbox of this process{}",
        hint::suffix(Some(ADDRESS_IN_USE_HINT))
    )]
    AddressInUse {
        /// The address.
        address: Ipv4Addr,
    },
    /// Another live sandbox of this process has this address on this bridge.
    #[error(
        "Network::Veth: address {address} is in use by another live sandbox of this process on bridge {bridge}{}",
        hint::suffix(Some(BRIDGE_ADDRESS_HINT))
    )]
    BridgeAddressInUse {
        /// The bridge.
        bridge: String,
        /// The sandbox's address.
        address: Ipv4Addr,
    },
    /// A link of the bridge's name exists and is not a bridge isobox made (no `isobox-bridge`
    /// alias, or not a bridge): isobox does not join it.
    #[error(
        "Network::Veth: {bridge} exists and is not an isobox bridge (kind {}){}",
        kind.as_deref().unwrap_or("none"),
        hint::suffix(Some(BRIDGE_NOT_ISOBOX_HINT))
    )]
    BridgeNotIsobox {
        /// The bridge's name.
        bridge: String,
        /// The existing link's kind (`bridge`, `veth`, …), if it has one.
        kind: Option<String>,
    },
    /// The live bridge was made with the other `Veth::nat` setting: forwarding is the
    /// bridge's, so its sandboxes all have NAT or none has.
    #[error(
        "Network::Veth: bridge {bridge} is in use with NAT {}{}",
        if *nat { "on" } else { "off" },
        hint::suffix(Some(BRIDGE_NAT_HINT))
    )]
    BridgeNat {
        /// The bridge.
        bridge: String,
        /// Whether the live bridge has NAT.
        nat: bool,
    },
    /// A veth port forward could not listen on the host side (the port is taken, or the
    /// address is not the host side's).
    #[error("Network::Veth: listening on {address} for the sandbox's port {sandbox_port}: {source}")]
    Publish {
        /// Where it was to listen.
        address: std::net::SocketAddr,
        /// The sandbox's port.
        sandbox_port: u16,
        /// What listen said.
        source: std::io::Error,
    },
    /// The user-mode helper did not start, or did not bring the sandbox's network up.
    #[error("Network::UserMode: {0}")]
    UserMode(UserNetError),
    /// The veth's NAT (`Veth::nat`) could not be set up or read back.
    #[error("Network::Veth: NAT: {0}")]
    Nat(#[from] NatError),
    /// The veth's bandwidth limits could not be set, or did not read back as written.
    #[error("Network::Veth: limiting the bandwidth: {0}{}", hint::suffix(.0.hint()))]
    Bandwidth(#[from] BandwidthError),
}

/// The hint for a refused join.
pub(crate) fn join_hint(errno: Errno) -> Option<&'static str> {
    match errno {
        Errno::EPERM => Some(
            "joining a network namespace takes CAP_SYS_ADMIN in the caller's user namespace and over the \
             namespace's owner: run as root; an unprivileged caller can use Network::Loopback or user-mode networking",
        ),
        Errno::EINVAL => {
            Some("the descriptor is not a network namespace (open /proc/<pid>/ns/net or /run/netns/<name>)")
        }
        Errno::EBADF => Some("the descriptor is not open"),
        _ => None,
    }
}

const ADDRESS_IN_USE_HINT: &str =
    "give each sandbox that runs at once a Veth of its own addresses (a /30 each), or wait for the first";

const BRIDGE_ADDRESS_HINT: &str = "each sandbox on a bridge needs an address of its own (the gateway, \
     host_address, is shared): give each Veth its own address, or wait for the first";

const BRIDGE_NOT_ISOBOX_HINT: &str = "isobox makes and removes bridges of its own and does not join another's \
     (a sandbox there would be on the host's network): choose another bridge name";

const BRIDGE_NAT_HINT: &str = "every sandbox on one bridge has the same Veth::nat: use another bridge \
     for the other setting, or wait until this one's sandboxes have ended";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_mode_and_hint_at_the_way_out() {
        let root = NetworkConfigError::VethNeedsRoot.to_string();
        assert!(root.contains("CAP_NET_ADMIN") && root.contains("user-mode networking"), "{root}");
        let join = NetworkError::Join { errno: Errno::EPERM }.to_string();
        assert!(join.contains("EPERM") && join.contains("CAP_SYS_ADMIN"), "{join}");
        let bad = NetworkError::Join { errno: Errno::EINVAL }.to_string();
        assert!(bad.contains("not a network namespace"), "{bad}");
    }
}
