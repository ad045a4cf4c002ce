//! A refused netlink request, typed (**parent**): the operation, the interface, the errno, the
//! kernel's own message (extended ack) and a hint where the host is the cause.

use std::fmt;

use nix::errno::Errno;

use crate::hint;

/// What isobox asked the kernel over netlink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetOp {
    /// Opening or using the `NETLINK_ROUTE` socket itself.
    Socket,
    /// Looking a link up by name (`RTM_GETLINK`).
    GetLink,
    /// Bringing a link up or down (`RTM_NEWLINK`, `IFF_UP`).
    SetLinkUp,
    /// Creating a veth pair (`RTM_NEWLINK`, kind `veth`).
    CreateVeth,
    /// Creating an ifb device (`RTM_NEWLINK`, kind `ifb`).
    CreateIfb,
    /// Moving a link into a network namespace (`IFLA_NET_NS_FD`).
    MoveLink,
    /// Deleting a link (`RTM_DELLINK`).
    DeleteLink,
    /// Adding an IPv4 address (`RTM_NEWADDR`).
    AddAddress,
    /// Adding a route (`RTM_NEWROUTE`).
    AddRoute,
    /// Adding a qdisc (`RTM_NEWQDISC`: tbf, ingress).
    AddQdisc,
    /// Reading qdiscs back (`RTM_GETQDISC`).
    GetQdisc,
    /// Adding a traffic filter (`RTM_NEWTFILTER`: matchall, or u32 with no key, with a mirred redirect).
    AddFilter,
    /// Reading traffic filters back (`RTM_GETTFILTER`).
    GetFilter,
    /// Creating a bridge (`RTM_NEWLINK`, kind `bridge`).
    CreateBridge,
    /// Enslaving a link to a bridge, or freeing it (`IFLA_MASTER`).
    SetMaster,
    /// Setting a link's hardware address (`IFLA_ADDRESS`).
    SetAddress,
}

impl fmt::Display for NetOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Socket => "opening a NETLINK_ROUTE socket",
            Self::GetLink => "looking up link",
            Self::SetLinkUp => "setting the state of link",
            Self::CreateVeth => "creating veth pair",
            Self::CreateIfb => "creating ifb link",
            Self::MoveLink => "moving link into a network namespace:",
            Self::DeleteLink => "deleting link",
            Self::AddAddress => "adding an IPv4 address to link",
            Self::AddRoute => "adding a route through link",
            Self::AddQdisc => "adding a qdisc to link",
            Self::GetQdisc => "reading the qdiscs of link",
            Self::AddFilter => "adding a traffic filter to link",
            Self::GetFilter => "reading the traffic filters of link",
            Self::CreateBridge => "creating bridge",
            Self::SetMaster => "attaching to a bridge: link",
            Self::SetAddress => "setting the hardware address of link",
        })
    }
}

/// A netlink request the kernel refused, or one isobox could not make.
///
/// `errno` is the kernel's answer, or for isobox's own failures: `EMSGSIZE` (the request
/// does not fit its buffer, e.g. a name too long), `EBADMSG` (a reply isobox cannot parse),
/// `ENODEV` (no such link).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{op}{}: {errno}{}{}", name(ifname), kernel(message), hint::suffix(self.hint()))]
#[non_exhaustive]
pub struct NetlinkError {
    /// What was asked.
    pub op: NetOp,
    /// The interface it was about, if any.
    pub ifname: Option<String>,
    /// The errno.
    pub errno: Errno,
    /// The kernel's own explanation (`NLMSGERR_ATTR_MSG`), when it gave one.
    pub message: Option<String>,
}

fn name(ifname: &Option<String>) -> String {
    ifname.as_ref().map(|n| format!(" {n:?}")).unwrap_or_default()
}

fn kernel(message: &Option<String>) -> String {
    message.as_ref().map(|m| format!(" (kernel: {m})")).unwrap_or_default()
}

impl NetlinkError {
    /// An error of `op` on `ifname` with `errno` and no kernel message.
    #[must_use]
    pub fn new(op: NetOp, ifname: Option<&str>, errno: Errno) -> Self {
        Self { op, ifname: ifname.map(str::to_owned), errno, message: None }
    }

    /// A hint when the host, not the request, is the likely cause.
    #[must_use]
    pub fn hint(&self) -> Option<&'static str> {
        match (self.errno, self.op) {
            (Errno::EPERM | Errno::EACCES, _) => {
                Some("needs root, or CAP_NET_ADMIN in the user namespace that owns the network namespace")
            }
            (Errno::EOPNOTSUPP, NetOp::CreateVeth) => Some("the kernel has no veth driver: modprobe veth"),
            (Errno::EOPNOTSUPP, NetOp::CreateIfb) => Some("the kernel has no ifb driver: modprobe ifb"),
            (Errno::EOPNOTSUPP, NetOp::CreateBridge) => Some("the kernel has no bridge driver: modprobe bridge"),
            (Errno::EOPNOTSUPP | Errno::ENOENT, NetOp::AddQdisc) => {
                Some("the kernel lacks this qdisc: modprobe sch_tbf (tbf) or sch_ingress (ingress)")
            }
            (Errno::EOPNOTSUPP | Errno::ENOENT, NetOp::AddFilter) => {
                Some("the kernel lacks matchall and u32 or mirred: modprobe cls_matchall act_mirred")
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_operation_the_link_the_errno_and_the_kernel() {
        let mut e = NetlinkError::new(NetOp::CreateVeth, Some("ibx0"), Errno::EOPNOTSUPP);
        e.message = Some("Unknown device type".into());
        let text = e.to_string();
        assert!(text.starts_with("creating veth pair \"ibx0\": EOPNOTSUPP"), "{text}");
        assert!(text.contains("(kernel: Unknown device type)"), "{text}");
        assert!(text.contains("Hint: the kernel has no veth driver"), "{text}");
    }

    #[test]
    fn a_request_error_has_no_hint() {
        let e = NetlinkError::new(NetOp::GetLink, Some("nope0"), Errno::ENODEV);
        assert_eq!(e.hint(), None);
        assert_eq!(e.to_string(), "looking up link \"nope0\": ENODEV: No such device");
    }
}
