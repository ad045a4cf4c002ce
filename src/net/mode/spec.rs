//! What the user asks for (**parent**: plain data, checked at `build()` by [`super::plan`]).

use super::error::NetworkConfigError;
use crate::net::bandwidth::spec::Bandwidth;
use crate::net::usermode::spec::{PortForward, UserNet};
use std::net::Ipv4Addr;
use std::os::fd::OwnedFd;
use std::sync::Arc;

/// The network a sandbox has ([`SandboxBuilder::network`](crate::SandboxBuilder::network)).
///
/// Without `network()`, `Namespaces::NET` decides as before: with it [`Network::Loopback`],
/// without it [`Network::Host`]. Once `network()` is called, **the mode wins** over the
/// `NET` bit of [`namespaces`](crate::SandboxBuilder::namespaces), whichever is called
/// first: `Host` takes the network namespace away, the others add it; nothing to contradict.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Network {
    /// The caller's network, unchanged: no network namespace. The explicit loosening: the
    /// program sees and uses every interface of the host (of the spawning thread's network
    /// namespace), and can reach whatever listens there, abstract Unix sockets included.
    Host,
    /// A network namespace of its own with only `lo`, brought up: no way out.
    Loopback,
    /// An existing network namespace (a descriptor of `/proc/<pid>/ns/net`, or of a
    /// `/run/netns/<name>` file). The spawning thread enters it just before the clone and
    /// goes back right after, so the child is born in it; `lo` there is left as it is.
    /// Entering one takes `CAP_SYS_ADMIN` in the caller's user namespace and over the
    /// namespace's owner: a rootless caller cannot (the spawn fails with
    /// [`NetworkError::Join`](crate::NetworkError::Join)).
    Join(Arc<OwnedFd>),
    /// A network namespace of its own with a veth pair to the caller's (root only:
    /// `CAP_NET_ADMIN` on the host). See [`Veth`].
    Veth(Veth),
    /// A network namespace of its own reached through a user-mode helper (pasta or
    /// slirp4netns) that isobox starts on the host for each sandbox, once its id maps are
    /// written and before its program runs, and kills and reaps with it: for an unprivileged
    /// caller (root too). Needs `Namespaces::USER`. See [`UserNet`].
    UserMode(UserNet),
}

/// A veth pair between the spawning thread's network namespace (the "host side") and the
/// sandbox's: `eth0` inside with [`address`](Veth::address), and on the host side a link
/// named `ibx<pid>-<n>` (the owner's pid and a counter in base 36) with
/// [`host_address`](Veth::host_address), both with [`prefix`](Veth::prefix) and up.
///
/// isobox adds no bridge, NAT or forwarding unless asked: the sandbox reaches the host side's
/// address, and beyond only with [`nat`](Veth::nat) (or if the host routes for it).
///
/// With [`bridge`](Veth::bridge), the host end is a port of that bridge and has no address:
/// `host_address`/`prefix` is then the bridge's (the gateway every sandbox on it shares), and
/// each sandbox needs an `address` of its own on it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Veth {
    /// The sandbox's address (on `eth0`).
    pub address: Ipv4Addr,
    /// The host side's address: the host end's, or with a [`bridge`](Veth::bridge) the
    /// bridge's (the gateway, shared by the sandboxes on it).
    pub host_address: Ipv4Addr,
    /// The prefix length of both (16 to 31): both must be in one subnet, which must not
    /// overlap the host's own routes.
    pub prefix: u8,
    /// A default route inside via the host side's address (default: on).
    pub default_route: bool,
    /// Rate limits each way (a tbf each), written and read back at each spawn; none by
    /// default. See [`Veth::bandwidth`] for where each sits.
    pub bandwidth: Option<Bandwidth>,
    /// Host ports carried to the sandbox's address (TCP only: threads of isobox's accept on
    /// the host side, as docker-proxy does, and connect to `address`), bound at each spawn.
    pub ports: Vec<PortForward>,
    /// NAT to the host's outbound interfaces (default: off). See [`Veth::nat`].
    pub nat: bool,
    /// The bridge the host end is a port of (default: none). See [`Veth::bridge`].
    pub bridge: Option<Bridge>,
}

impl Veth {
    /// A pair with the sandbox at `address` and the host side at `host_address`, both
    /// `/prefix`, and a default route inside via the host side.
    #[must_use]
    pub fn new(address: Ipv4Addr, host_address: Ipv4Addr, prefix: u8) -> Veth {
        let (default_route, bandwidth, ports) = (true, None, Vec::new());
        Veth { address, host_address, prefix, default_route, bandwidth, ports, nat: false, bridge: None }
    }

    /// Carries TCP connections to `forward`'s host address and port (127.0.0.1 unless set
    /// with [`PortForward::on`]) to the sandbox's `address` and `forward.sandbox_port`.
    #[must_use]
    pub fn port(mut self, forward: PortForward) -> Veth {
        self.ports.push(forward);
        self
    }

    /// Limits the sandbox's traffic each way (see [`Bandwidth`]), each a tbf written and read
    /// back at each spawn:
    /// - **into the sandbox**: the root qdisc of the host end (out of the sandbox's reach);
    /// - **out of it**: the root qdisc of the sandbox's own `eth0`, set by isobox from
    ///   outside; unless the sandbox keeps `CAP_NET_ADMIN` (which could delete that qdisc) or
    ///   `CAP_NET_RAW` (whose packet sockets can skip it with `PACKET_QDISC_BYPASS`;
    ///   [`Capabilities::DOCKER_DEFAULT`](crate::Capabilities::DOCKER_DEFAULT) keeps it): then
    ///   it sits on the host side, on an ifb (`ibx<pid>_<n>`, the pair's name with `_`) that
    ///   the host end's ingress is redirected to, with the filter's target read back too. Chosen
    ///   at `build()`. The ifb costs a link more per spawn, deleted with the pair off the
    ///   `wait`; one left by a process that exits or dies first is swept by the next isobox
    ///   process's first veth spawn in that namespace.
    #[must_use]
    pub fn bandwidth(mut self, limits: Bandwidth) -> Veth {
        self.bandwidth = Some(limits);
        self
    }

    /// A way out through the host (default: off). **A loosening**: the sandbox then reaches
    /// whatever the spawning thread's network namespace reaches (other networks, other
    /// sandboxes' veths), with the host's outbound address as its source. At each spawn, in
    /// that namespace: IPv4 forwarding is turned on for the host end only, and a masquerade
    /// rule for the sandbox's address leaving through any other interface is added to a table
    /// of isobox's own (`table ip isobox`, with the `nft` binary of nftables) and read back;
    /// both go with the pair. The kernel forwards the replies only if the interface they come
    /// in through forwards too: isobox does not turn that on, and refuses the spawn
    /// ([`NatError::OutboundForwardingOff`](crate::NatError::OutboundForwardingOff)) if an
    /// interface of a default route has it off. The host's own firewall (a `forward` chain
    /// that drops) still applies. On a [`bridge`](Veth::bridge), forwarding and strict
    /// reverse-path filtering are turned on for the bridge (the interface its ports' packets
    /// come in through), and the rule masquerades the sandbox's address leaving through any
    /// interface but the bridge.
    #[must_use]
    pub fn nat(mut self, on: bool) -> Veth {
        self.nat = on;
        self
    }

    /// Puts the host end on `bridge` (default: none), which isobox creates if missing and
    /// removes once its last port is gone. See [`Bridge`].
    #[must_use]
    pub fn bridge(mut self, bridge: Bridge) -> Veth {
        self.bridge = Some(bridge);
        self
    }

    /// Whether the sandbox gets a default route via the host side.
    #[must_use]
    pub fn default_route(mut self, on: bool) -> Veth {
        self.default_route = on;
        self
    }
}

/// A bridge of isobox's on the host side ([`Veth::bridge`]): the host ends of the veths on it
/// are its ports (no address of their own), and it has the gateway address, the
/// [`Veth::host_address`]/[`Veth::prefix`] of its sandboxes.
///
/// **What a bridge means**: its sandboxes share one link layer and one subnet, and reach one
/// another directly (any port, any protocol, ARP included; with `CAP_NET_RAW` kept one can
/// spoof another's address), as well as the gateway. Without a bridge (the default) each
/// sandbox has a link of its own and reaches only its host side.
///
/// Its lifetime: the first spawn on it (of any isobox process in that network namespace)
/// creates it, marked with the alias `isobox-bridge` (`isobox-bridge nat` with
/// [`Veth::nat`]); every spawn adds its host end as a port; it is deleted by isobox's thread
/// 0.3 s after its last port goes (so that spawns in a row keep it). If the last owner dies first (killed, or it exits
/// within that time), the next isobox process's first veth spawn in that namespace
/// sweeps the dead owners' ports and then every empty isobox bridge. Creating, joining and
/// deleting are serialised across processes by an `flock` on `/run/isobox-bridge.lock`.
///
/// Its sandboxes must agree: a link of that name that is not an isobox bridge (the host's
/// own `br0`, `docker0`) is refused ([`NetworkError::BridgeNotIsobox`](crate::NetworkError::BridgeNotIsobox)):
/// joining it would put the sandbox on the host's network. A live bridge made with NAT on
/// takes only sandboxes with NAT on, and one without only sandboxes without
/// ([`NetworkError::BridgeNat`](crate::NetworkError::BridgeNat)): forwarding is the bridge's.
/// Two live sandboxes of one process with one address on one bridge are refused
/// ([`NetworkError::BridgeAddressInUse`](crate::NetworkError::BridgeAddressInUse)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bridge {
    name: String,
}

impl Bridge {
    /// The bridge named `name` (1 to 15 bytes, no `/`, `:`, whitespace; checked at `build()`).
    #[must_use]
    pub fn new(name: impl Into<String>) -> Bridge {
        Bridge { name: name.into() }
    }

    /// Its name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A bridge name the kernel takes: 1 to 15 bytes (IFNAMSIZ less the NUL), no `/`, `:` or
/// whitespace, not `.` or `..`.
pub(crate) fn check_name(name: &str) -> Result<String, NetworkConfigError> {
    let why = if name.is_empty() || name.len() > 15 {
        Some("1 to 15 bytes")
    } else if name == "." || name == ".." {
        Some("not . or ..")
    } else if name == "all" || name == "default" {
        // /proc/sys/net/ipv{4,6}/conf/{all,default} are every interface's settings, not its.
        Some("not all or default")
    } else if name.bytes().any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace() || !b.is_ascii_graphic()) {
        Some("printable ASCII without '/', ':' or whitespace")
    } else {
        None
    };
    match why {
        Some(why) => Err(NetworkConfigError::BridgeName { name: name.to_owned(), why }),
        None => Ok(name.to_owned()),
    }
}
