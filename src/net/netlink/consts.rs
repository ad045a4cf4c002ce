//! rtnetlink's numbers and fixed family headers (from the kernel's uapi headers), written as
//! byte arrays so that encoding needs no `unsafe` and no allocation (**parent** and **child**).

/// `nlmsghdr.nlmsg_flags`: a request.
pub(crate) const NLM_F_REQUEST: u16 = 0x1;
/// Part of a multipart reply (a dump).
pub(crate) const NLM_F_MULTI: u16 = 0x2;
/// Ask for an ack.
pub(crate) const NLM_F_ACK: u16 = 0x4;
/// `RTM_GET*`: dump every object.
pub(crate) const NLM_F_DUMP: u16 = 0x300;
/// `RTM_NEW*`: fail if it exists.
pub(crate) const NLM_F_EXCL: u16 = 0x200;
/// `RTM_NEW*`: create it.
pub(crate) const NLM_F_CREATE: u16 = 0x400;
/// An error ack carries only the request's header.
pub(crate) const NLM_F_CAPPED: u16 = 0x100;
/// An error ack carries attributes (`NLMSGERR_ATTR_*`).
pub(crate) const NLM_F_ACK_TLVS: u16 = 0x200;

/// A message of type error (an ack when its errno is 0).
pub(crate) const NLMSG_ERROR: u16 = 2;
/// The end of a dump.
pub(crate) const NLMSG_DONE: u16 = 3;
/// The kernel's text in an extended ack.
pub(crate) const NLMSGERR_ATTR_MSG: u16 = 1;

pub(crate) const RTM_NEWLINK: u16 = 16;
pub(crate) const RTM_DELLINK: u16 = 17;
pub(crate) const RTM_GETLINK: u16 = 18;
pub(crate) const RTM_NEWADDR: u16 = 20;
pub(crate) const RTM_NEWROUTE: u16 = 24;
pub(crate) const RTM_NEWQDISC: u16 = 36;
pub(crate) const RTM_GETQDISC: u16 = 38;
pub(crate) const RTM_NEWTFILTER: u16 = 44;
pub(crate) const RTM_GETTFILTER: u16 = 46;

pub(crate) const IFLA_IFNAME: u16 = 3;
pub(crate) const IFLA_LINKINFO: u16 = 18;
pub(crate) const IFLA_NET_NS_FD: u16 = 28;
pub(crate) const IFLA_INFO_KIND: u16 = 1;
pub(crate) const IFLA_INFO_DATA: u16 = 2;
pub(crate) const VETH_INFO_PEER: u16 = 1;
pub(crate) const IFF_UP: u32 = 0x1;

pub(crate) const IFA_ADDRESS: u16 = 1;
pub(crate) const IFA_LOCAL: u16 = 2;

pub(crate) const RTA_DST: u16 = 1;
pub(crate) const RTA_OIF: u16 = 4;
pub(crate) const RTA_GATEWAY: u16 = 5;
pub(crate) const RT_TABLE_MAIN: u8 = 254;
pub(crate) const RTPROT_BOOT: u8 = 3;
pub(crate) const RT_SCOPE_UNIVERSE: u8 = 0;
pub(crate) const RT_SCOPE_LINK: u8 = 253;
pub(crate) const RTN_UNICAST: u8 = 1;

pub(crate) const AF_UNSPEC: u8 = 0;
pub(crate) const AF_INET: u8 = 2;

/// `struct ifinfomsg`: family, type 0, `index`, `flags` under the `change` mask.
#[must_use]
pub(crate) fn ifinfomsg(index: i32, flags: u32, change: u32) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[0] = AF_UNSPEC;
    b[4..8].copy_from_slice(&index.to_ne_bytes());
    b[8..12].copy_from_slice(&flags.to_ne_bytes());
    b[12..16].copy_from_slice(&change.to_ne_bytes());
    b
}

/// `struct ifaddrmsg` for IPv4: `prefix` bits on link `index`, scope universe.
#[must_use]
pub(crate) fn ifaddrmsg(prefix: u8, index: u32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[0] = AF_INET;
    b[1] = prefix;
    b[3] = RT_SCOPE_UNIVERSE;
    b[4..8].copy_from_slice(&index.to_ne_bytes());
    b
}

/// `struct rtmsg` for an IPv4 unicast route in the main table to a `dst_len`-bit prefix.
#[must_use]
pub(crate) fn rtmsg(dst_len: u8, scope: u8) -> [u8; 12] {
    [AF_INET, dst_len, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, scope, RTN_UNICAST, 0, 0, 0, 0]
}

/// `struct tcmsg`: on link `index`, with `handle`, under `parent`, `info` (filters: priority
/// and protocol).
#[must_use]
pub(crate) fn tcmsg(index: i32, handle: u32, parent: u32, info: u32) -> [u8; 20] {
    let mut b = [0u8; 20];
    b[0] = AF_UNSPEC;
    b[4..8].copy_from_slice(&index.to_ne_bytes());
    b[8..12].copy_from_slice(&handle.to_ne_bytes());
    b[12..16].copy_from_slice(&parent.to_ne_bytes());
    b[16..20].copy_from_slice(&info.to_ne_bytes());
    b
}
