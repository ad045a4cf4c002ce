//! Host-side veths and ifbs left by isobox processes that died without deleting them (killed
//! with SIGKILL, say, or exiting before the deleter thread deleted an ifb), removed at this
//! process's first veth spawn in each network namespace (**parent**), as the cgroup sweep
//! does for cgroups.
//!
//! A link is left behind when its owner (the pid in its name, [`super::name`]) is gone, or
//! when that pid is another process now: its start time is not the one in the link's alias.
//! A link whose owner lives, this process's own, and names that are not isobox's are left
//! alone. Best effort: a link that cannot be deleted stays for the next sweep. The NAT rules
//! of dead owners are swept likewise, by [`super::nat`] with [`name::owner_gone`].

use super::name;
use super::netns::DoneIn;
use crate::net::netlink::link;
use crate::net::netlink::links::{self, LinkName};
use crate::net::netlink::socket::Netlink;

/// The network namespaces this process has swept.
static SWEPT: DoneIn = DoneIn::new();

/// Sweeps the namespace of `nl` unless this process did already.
pub(crate) fn once(nl: &mut Netlink) {
    SWEPT.once(nl.netns_id(), || drop(sweep(nl)));
}

/// Deletes every leftover link of the namespace of `nl`, then every isobox bridge left
/// without a port ([`super::bridge::sweep_empty`]); returns their names.
pub(crate) fn sweep(nl: &mut Netlink) -> Vec<String> {
    let leftovers: Vec<String> =
        links::list(nl).unwrap_or_default().into_iter().filter(is_left_behind).map(|l| l.name).collect();
    let mut gone: Vec<String> = leftovers.into_iter().filter(|n| link::delete(nl, n).is_ok()).collect();
    gone.extend(super::bridge::sweep_empty(nl));
    gone
}

/// Whether `link` is a host-side link of an isobox process of this pid namespace (its alias
/// says so: a pid means nothing in another's) that is gone.
fn is_left_behind(link: &LinkName) -> bool {
    let Some(pid) = name::owner(&link.name) else {
        return false;
    };
    let Some((ns, alias_pid, start)) = link.alias.as_deref().and_then(name::alias_owner) else {
        return false; // not marked (yet), or not isobox's
    };
    alias_pid == pid && name::owner_gone(ns, pid, start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(name: &str, alias: Option<&str>) -> LinkName {
        LinkName { name: name.into(), alias: alias.map(str::to_owned) }
    }

    #[test]
    fn only_links_of_gone_owners_are_left_behind() {
        let ours = name::next_name();
        assert!(!is_left_behind(&link(&ours, Some(&name::own_alias()))));
        let ns = name::own_pid_namespace();
        // pid 1 lives; with its own start time it stays, with another it is gone.
        let init = name::host_name(1, 0);
        assert!(!is_left_behind(&link(&init, None)));
        if let Ok(Some(start)) = crate::owner::start_time(1) {
            assert!(!is_left_behind(&link(&init, Some(&format!("isobox {ns} 1 {start}")))));
            assert!(is_left_behind(&link(&init, Some(&format!("isobox {ns} 1 {}", start + 1)))));
            // Another pid namespace's pid 1: not ours to judge.
            assert!(!is_left_behind(&link(&init, Some(&format!("isobox {} 1 {}", ns + 1, start + 1)))));
        }
        // Above pid_max: nobody has it; without the alias it is left alone.
        let dead = name::host_name(4_194_304 + 1, 3);
        assert!(is_left_behind(&link(&dead, Some(&format!("isobox {ns} {} 5", 4_194_304 + 1)))));
        let dead_ifb = name::ifb_name(&dead);
        assert!(is_left_behind(&link(&dead_ifb, Some(&format!("isobox {ns} {} 5", 4_194_304 + 1)))));
        assert!(!is_left_behind(&link(&dead, None)));
        assert!(!is_left_behind(&link("eth0", None)));
        assert!(!is_left_behind(&link("ibxfoo", None)));
    }
}
