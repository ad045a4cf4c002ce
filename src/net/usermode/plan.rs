//! The helper's command line, checked once and written from a validated [`UserNet`]
//! (**parent**, pure data: unit-tested without root or helpers).

use std::ffi::OsString;
use std::os::fd::RawFd;
use std::path::PathBuf;

use super::error::UserNetError;
use super::spec::{PortForward, Protocol, UserNet, UserNetHelper};

/// A validated [`UserNet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserNetPlan {
    pub(crate) net: UserNet,
}

/// What one start adds to the plan: the descriptors the helper inherits and where its API
/// socket goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Launch {
    /// The sandbox's pid.
    pub pid: u32,
    /// The write end the helper reports readiness on (pasta: its pid file, reopened through
    /// `/proc/self/fd`; slirp4netns: `--ready-fd`).
    pub ready_fd: RawFd,
    /// slirp4netns's `--exit-fd`: the read end of a pipe whose other end the parent holds.
    pub exit_fd: Option<RawFd>,
    /// slirp4netns's `--api-socket`, when there are port forwards.
    pub api_socket: Option<PathBuf>,
    /// Whether the caller is root (pasta would drop to nobody, and could then neither enter
    /// the sandbox's namespaces nor keep its death signal).
    pub as_root: bool,
    /// pasta: the sandbox's user and network namespaces, opened by the parent and inherited,
    /// which pasta joins through `/proc/self/fd`. Opening `/proc/<pid>/ns/*` itself takes
    /// ptrace rights over the sandbox's first process, which pasta, having dropped its
    /// capabilities, lacks while that process still holds its own (before its exec).
    pub ns_fds: Option<(RawFd, RawFd)>,
}

/// The name of the sandbox's interface.
pub(crate) const IFNAME: &str = "eth0";

impl UserNetPlan {
    /// Checks `net`: the MTU's range, no port 0, no two forwards on one host port.
    pub fn new(net: &UserNet) -> Result<Self, UserNetError> {
        if !(UserNet::MIN_MTU..=UserNet::MAX_MTU).contains(&net.mtu) {
            return Err(UserNetError::Mtu { mtu: net.mtu });
        }
        for (i, forward) in net.ports.iter().enumerate() {
            if forward.host_port == 0 || forward.sandbox_port == 0 {
                return Err(UserNetError::ZeroPort { forward: *forward });
            }
            if let Some(first) = net.ports[..i].iter().find(|f| overlaps(f, forward)) {
                return Err(UserNetError::DuplicatePort { first: *first, second: *forward });
            }
        }
        Ok(Self { net: net.clone() })
    }

    /// The helper.
    #[must_use]
    pub fn helper(&self) -> UserNetHelper {
        self.net.helper
    }

    /// The helper's arguments (after the program) for one start.
    pub(crate) fn args(&self, launch: &Launch) -> Vec<OsString> {
        let args = match self.net.helper {
            UserNetHelper::Pasta => self.pasta_args(launch),
            UserNetHelper::Slirp4netns => self.slirp_args(launch),
        };
        args.into_iter().map(OsString::from).collect()
    }

    fn pasta_args(&self, launch: &Launch) -> Vec<String> {
        let net = &self.net;
        let mut a: Vec<String> =
            ["--foreground", "--quiet", "--ipv4-only", "--config-net", "--ns-ifname", IFNAME].map(String::from).into();
        a.extend(["--address".into(), UserNet::SANDBOX_ADDRESS.to_string()]);
        a.extend(["--netmask".into(), UserNet::PREFIX_LEN.to_string()]);
        a.extend(["--gateway".into(), UserNet::GATEWAY.to_string()]);
        a.extend(["--mtu".into(), net.mtu.to_string()]);
        if net.dns {
            a.extend(["--dns-forward".into(), UserNet::DNS.to_string()]);
        }
        if !net.host_loopback {
            a.push("--no-map-gw".into());
        }
        for (flag, protocol) in [("--tcp-ports", Protocol::Tcp), ("--udp-ports", Protocol::Udp)] {
            let specs: Vec<String> = net.ports.iter().filter(|f| f.protocol == protocol).map(pasta_spec).collect();
            if specs.is_empty() {
                a.extend([flag.into(), "none".into()]);
            }
            for spec in specs {
                a.extend([flag.into(), spec]);
            }
        }
        // Nothing of the sandbox's own loopback leads to the host's.
        a.extend(["--tcp-ns".into(), "none".into(), "--udp-ns".into(), "none".into()]);
        a.extend(["--pid".into(), format!("/proc/self/fd/{}", launch.ready_fd)]);
        if launch.as_root {
            a.extend(["--runas".into(), "0:0".into()]);
        }
        match launch.ns_fds {
            Some((user, net)) => {
                a.extend(["--userns".into(), format!("/proc/self/fd/{user}")]);
                a.extend(["--netns".into(), format!("/proc/self/fd/{net}")]);
            }
            None => a.push(launch.pid.to_string()),
        }
        a
    }

    fn slirp_args(&self, launch: &Launch) -> Vec<String> {
        let net = &self.net;
        let mut a = vec!["--configure".to_string(), format!("--mtu={}", net.mtu)];
        if !net.host_loopback {
            a.push("--disable-host-loopback".into());
        }
        if !net.dns {
            a.push("--disable-dns".into());
        }
        a.extend(["--enable-sandbox".into(), "--enable-seccomp".into()]);
        a.push(format!("--ready-fd={}", launch.ready_fd));
        if let Some(fd) = launch.exit_fd {
            a.push(format!("--exit-fd={fd}"));
        }
        if let Some(path) = &launch.api_socket {
            a.push(format!("--api-socket={}", path.display()));
        }
        a.extend([launch.pid.to_string(), IFNAME.into()]);
        a
    }
}

/// pasta's `-t`/`-u` spec of one forward: `ADDR/HOSTPORT:SANDBOXPORT`.
fn pasta_spec(forward: &PortForward) -> String {
    format!("{}/{}:{}", forward.host_address, forward.host_port, forward.sandbox_port)
}

fn overlaps(a: &PortForward, b: &PortForward) -> bool {
    a.protocol == b.protocol
        && a.host_port == b.host_port
        && (a.host_address == b.host_address || a.host_address.is_unspecified() || b.host_address.is_unspecified())
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
