//! Host-side veth names and aliases (**parent**; pure but for the counter and `/proc`).
//!
//! A name is `ibx` + the owner's pid + `-` + a counter, both in base 36: at most 3 + 5 + 1 + 6
//! = 15 bytes (IFNAMSIZ less the NUL) for pids up to 2^22. The counter never repeats in a
//! process, so a name is never reused while the kernel may still be tearing an older pair
//! down. A pair's ifb (its egress limit on the host side) is the pair's name with `_` for
//! `-` (`ibx<pid>_<n>`): as long, the same owner. The link's alias (`IFLA_IFALIAS`) is
//! `isobox <pid namespace> <pid> <start time>`, so that the sweep can tell a live owner from
//! another process that has its pid now; a host end on a bridge adds its sandbox's address, so
//! that another process sharing the bridge can tell the address is taken.

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};

/// What every host-side name starts with.
pub(crate) const PREFIX: &str = "ibx";
/// IFNAMSIZ less the NUL.
const MAX_NAME: usize = 15;

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The name of owner `pid`'s `n`th link (the counter wraps where the name would be too long).
pub(crate) fn host_name(pid: u32, n: u64) -> String {
    let pid36 = base36(u64::from(pid));
    let room = MAX_NAME.saturating_sub(PREFIX.len() + pid36.len() + 1).clamp(1, 12) as u32;
    format!("{PREFIX}{pid36}-{}", base36(n % 36u64.pow(room)))
}

/// The name of the ifb of the host end `host` (`ibx<pid>_<n>` for `ibx<pid>-<n>`).
pub(crate) fn ifb_name(host: &str) -> String {
    host.replacen('-', "_", 1)
}

/// The next name of this process.
pub(crate) fn next_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    host_name(std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The owner's pid in a host-side name (a pair's host end or its ifb).
pub(crate) fn owner(name: &str) -> Option<u32> {
    let (pid, n) = name.strip_prefix(PREFIX)?.split_once(['-', '_'])?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase());
    if !digits(pid) || !digits(n) {
        return None;
    }
    u32::from_str_radix(pid, 36).ok()
}

/// The alias of this process's links.
pub(crate) fn own_alias() -> String {
    let start = crate::owner::own_start_time();
    format!("isobox {} {} {}", own_pid_namespace(), std::process::id(), start.unwrap_or(0))
}

/// The inode of this process's pid namespace: pids in names and aliases mean something only
/// there (a network namespace can be shared by processes of several).
pub(crate) fn own_pid_namespace() -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self/ns/pid").map(|m| m.ino()).unwrap_or(0)
}

/// The alias of this process's host end on a bridge: [`own_alias`] and the sandbox's address,
/// which other isobox processes sharing the bridge check theirs against.
pub(crate) fn port_alias(address: Ipv4Addr) -> String {
    format!("{} {address}", own_alias())
}

/// Whether the isobox process `pid` that started at `start` in pid namespace `ns` is gone:
/// never this process, nor one of another pid namespace (a pid means nothing there). Judges
/// the owners of links ([`super::sweep`]), NAT rules ([`super::nat`]) and bridge ports.
pub(crate) fn owner_gone(ns: u64, pid: u32, start: u64) -> bool {
    if pid == std::process::id() || ns != own_pid_namespace() {
        return false;
    }
    crate::owner::is_gone(pid, start)
}

/// The owner an alias isobox wrote names: pid namespace inode, pid and start time.
pub(crate) fn alias_owner(alias: &str) -> Option<(u64, u32, u64)> {
    let mut parts = alias.strip_prefix("isobox ")?.split(' ');
    let found = (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
    match parts.next() {
        None => Some(found),
        Some(address) => (address.parse::<Ipv4Addr>().is_ok() && parts.next().is_none()).then_some(found),
    }
}

/// The sandbox address a [`port_alias`] names.
pub(crate) fn alias_address(alias: &str) -> Option<Ipv4Addr> {
    alias_owner(alias)?; // well formed: the address, if any, is the fifth and last word
    alias.split(' ').nth(4)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_ifnamsiz_and_give_their_owner_back() {
        assert_eq!(host_name(35, 0), "ibxz-0");
        assert_eq!(host_name(36, 37), "ibx10-11");
        let big = host_name(4_194_304, u64::MAX);
        assert!(big.len() <= 15, "{big}");
        assert_eq!(owner(&big), Some(4_194_304));
        assert_eq!(owner("ibxz-0"), Some(35));
        let ours = next_name();
        assert_eq!(owner(&ours), Some(std::process::id()));
        assert_ne!(next_name(), ours);
        let ifb = ifb_name(&big);
        assert!(ifb.len() == big.len() && ifb != big && ifb.starts_with(PREFIX), "{ifb}");
        assert_eq!((ifb_name("ibxz-0"), owner(&ifb)), ("ibxz_0".to_string(), Some(4_194_304)));
        for other in ["ibx", "ibx-1", "ibxz-", "ibxZ-1", "eth0", "ibx12", "ibx_1", "ibxz_"] {
            assert_eq!(owner(other), None, "{other}");
        }
    }

    #[test]
    fn aliases_carry_pid_and_start_time() {
        let own = own_alias();
        let (ns, pid, start) = alias_owner(&own).unwrap();
        assert_eq!((ns, pid), (own_pid_namespace(), std::process::id()));
        assert_eq!(crate::owner::start_time(pid), Ok(Some(start)));
        assert_eq!(alias_owner("isobox 7 12 34"), Some((7, 12, 34)));
        assert_eq!(alias_owner("isobox 12 34"), None);
        let port = port_alias(Ipv4Addr::new(10, 9, 0, 2));
        assert_eq!(alias_owner(&port), alias_owner(&own));
        assert_eq!(alias_address(&port), Some(Ipv4Addr::new(10, 9, 0, 2)));
        assert_eq!(alias_address(&own), None);
        assert_eq!(alias_owner("isobox 7 12 34 not-an-address"), None);
        assert_eq!(alias_owner("isobox 7 12 34 10.0.0.1 more"), None);
        assert_eq!(alias_owner("someone else"), None);
    }
}
