//! What the user asks for (**parent**): user-mode networking through an external helper,
//! pasta or slirp4netns, started on the host for a sandbox's network namespace.
//!
//! Both helpers give the sandbox the same network: one interface `eth0` with
//! [`UserNet::SANDBOX_ADDRESS`]/24, a default route through [`UserNet::GATEWAY`], DNS at
//! [`UserNet::DNS`] (forwarded to the host's resolver, unless [`UserNet::dns`] is off). IPv4
//! only. The sandbox reaches what the host reaches, through the helper's sockets on the host,
//! except the host's loopback: see [`UserNet::host_loopback`].

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

/// Which external helper gives the sandbox its network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UserNetHelper {
    /// `pasta` (Debian package `passt`): the sandbox's connections become the helper's own
    /// sockets on the host.
    Pasta,
    /// `slirp4netns` (package `slirp4netns`): libslirp's TCP/IP stack; port forwards are added
    /// through its API socket.
    Slirp4netns,
}

impl UserNetHelper {
    /// The program's name, looked up in `PATH` unless [`UserNet::program`] says otherwise.
    #[must_use]
    pub fn program(self) -> &'static str {
        match self {
            Self::Pasta => "pasta",
            Self::Slirp4netns => "slirp4netns",
        }
    }

    /// The Debian/Ubuntu/Fedora package that installs it.
    #[must_use]
    pub fn package(self) -> &'static str {
        match self {
            Self::Pasta => "passt",
            Self::Slirp4netns => "slirp4netns",
        }
    }
}

impl std::fmt::Display for UserNetHelper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.program())
    }
}

/// A transport protocol of a port forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
        })
    }
}

/// A host port forwarded to a port inside the sandbox: the helper listens on
/// `host_address:host_port` on the host and connects to `sandbox_port` inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PortForward {
    /// TCP or UDP.
    pub protocol: Protocol,
    /// The address the helper listens on, on the host: 127.0.0.1 unless set with
    /// [`PortForward::on`] (`0.0.0.0` for every address of the host).
    pub host_address: Ipv4Addr,
    /// The port on the host (1–65535).
    pub host_port: u16,
    /// The port inside the sandbox (1–65535).
    pub sandbox_port: u16,
}

impl PortForward {
    /// A TCP forward from the host's `127.0.0.1:host_port` to `sandbox_port` inside.
    #[must_use]
    pub fn tcp(host_port: u16, sandbox_port: u16) -> Self {
        Self { protocol: Protocol::Tcp, host_address: Ipv4Addr::LOCALHOST, host_port, sandbox_port }
    }

    /// A UDP forward from the host's `127.0.0.1:host_port` to `sandbox_port` inside.
    #[must_use]
    pub fn udp(host_port: u16, sandbox_port: u16) -> Self {
        Self { protocol: Protocol::Udp, ..Self::tcp(host_port, sandbox_port) }
    }

    /// The same forward, listening on `address` of the host instead of 127.0.0.1.
    #[must_use]
    pub fn on(self, address: Ipv4Addr) -> Self {
        Self { host_address: address, ..self }
    }
}

impl std::fmt::Display for PortForward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self { protocol, host_address, host_port, sandbox_port } = self;
        write!(f, "{protocol} {host_address}:{host_port} -> sandbox port {sandbox_port}")
    }
}

/// User-mode networking for a sandbox with its own user and network namespaces: the helper
/// runs on the host as the caller, joins the sandbox's namespaces to make its tap `eth0`, and
/// carries its traffic through ordinary sockets. Validated by `UserNetPlan::new` and started
/// for a sandbox's pid by [`UserNet::start`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserNet {
    /// pasta or slirp4netns.
    pub helper: UserNetHelper,
    /// The helper's program: a path, or a name looked up in `PATH` (default: the helper's
    /// own name).
    pub program: PathBuf,
    /// Host ports forwarded into the sandbox (none by default).
    pub ports: Vec<PortForward>,
    /// The MTU of the sandbox's interface (default 65520, the most both helpers take).
    pub mtu: u32,
    /// Whether DNS queries to [`UserNet::DNS`] are forwarded to the host's resolver
    /// (default: yes).
    pub dns: bool,
    /// Whether the sandbox reaches the host's loopback (127.0.0.1) services through
    /// [`UserNet::GATEWAY`] (default: **no**). Code in a sandbox is untrusted: the caller's
    /// loopback often holds services that trust every local connection (databases, agents,
    /// debuggers), so this is off unless asked: pasta gets `--no-map-gw` (and `-T none -U
    /// none`, so that the sandbox's own 127.0.0.1 does not lead to the host's either),
    /// slirp4netns `--disable-host-loopback`. Services bound to the host's other addresses
    /// are reachable as any other destination is.
    pub host_loopback: bool,
    /// How long `start` waits for the helper to report the network up (default 10 s).
    pub ready_timeout: Duration,
}

impl UserNet {
    /// The sandbox's address on its `eth0` (prefix length 24).
    pub const SANDBOX_ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 100);
    /// The prefix length of [`UserNet::SANDBOX_ADDRESS`].
    pub const PREFIX_LEN: u8 = 24;
    /// The gateway of the sandbox's default route (the host's loopback, with
    /// [`UserNet::host_loopback`]).
    pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
    /// The DNS forwarder's address inside the sandbox.
    pub const DNS: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 3);
    /// The default and largest MTU.
    pub const MAX_MTU: u32 = 65520;
    /// The smallest MTU accepted (IPv4's minimum).
    pub const MIN_MTU: u32 = 68;

    /// User-mode networking through `helper`, with the defaults.
    #[must_use]
    pub fn new(helper: UserNetHelper) -> Self {
        Self {
            helper,
            program: PathBuf::from(helper.program()),
            ports: Vec::new(),
            mtu: Self::MAX_MTU,
            dns: true,
            host_loopback: false,
            ready_timeout: Duration::from_secs(10),
        }
    }

    /// Through pasta.
    #[must_use]
    pub fn pasta() -> Self {
        Self::new(UserNetHelper::Pasta)
    }

    /// Through slirp4netns.
    #[must_use]
    pub fn slirp4netns() -> Self {
        Self::new(UserNetHelper::Slirp4netns)
    }

    /// Adds a port forward.
    #[must_use]
    pub fn port(mut self, forward: PortForward) -> Self {
        self.ports.push(forward);
        self
    }

    /// Sets the MTU.
    #[must_use]
    pub fn mtu(self, mtu: u32) -> Self {
        Self { mtu, ..self }
    }

    /// Turns the DNS forwarder on or off.
    #[must_use]
    pub fn dns(self, on: bool) -> Self {
        Self { dns: on, ..self }
    }

    /// Lets the sandbox reach the host's loopback through [`UserNet::GATEWAY`] (see the
    /// field's doc: off by default, for untrusted code).
    #[must_use]
    pub fn host_loopback(self, allow: bool) -> Self {
        Self { host_loopback: allow, ..self }
    }

    /// Runs `program` as the helper instead of the one found in `PATH`.
    #[must_use]
    pub fn program(self, program: impl Into<PathBuf>) -> Self {
        Self { program: program.into(), ..self }
    }

    /// Sets how long `start` waits for the network to be up.
    #[must_use]
    pub fn ready_timeout(self, timeout: Duration) -> Self {
        Self { ready_timeout: timeout, ..self }
    }
}
