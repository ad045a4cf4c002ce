//! A veth sandbox's way out through NAT (**parent**, `Veth::nat`): IPv4 forwarding on the host
//! end, and a masquerade rule for the sandbox's subnet leaving through any other interface,
//! in the spawning thread's network namespace.
//!
//! The rule is written with the `nft` binary (nftables) into a table of isobox's own, `table
//! ip isobox`, chain `postrouting` (a nat hook at `srcnat`), one rule per sandbox with the
//! comment `isobox <pid namespace> <pid> <start time> <host end>` (the link's alias and its
//! name), read back by its handle, and deleted when its [`NatRule`] is dropped; the table goes
//! with the last rule. Rules of dead owners are swept at this process's first NAT in each
//! namespace ([`super::name::owner_gone`]). Adding and removing hold an `flock` on
//! [`LOCK`], so a concurrent isobox process never sees its fresh rule's table deleted.
//!
//! The kernel forwards a packet only if its *input* interface forwards: the host end for the
//! sandbox's packets, and the outbound interface for the replies. isobox turns the first on
//! (it goes with the link) and only checks the second (a host-wide choice, not isobox's): an
//! interface of a default route with forwarding off is a refusal, [`NatError::OutboundForwardingOff`].

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};

use nix::fcntl::{Flock, FlockArg};
use nix::sched::{setns, CloneFlags};

use super::name;
use super::nat_error::{NatError, NatStep};
use super::netns::{self, DoneIn};

/// The lock of every isobox process's NAT table changes.
pub(crate) const LOCK: &str = "/run/isobox-nat.lock";
const TABLE: &str = "ip isobox";
const CHAIN: &str = "postrouting";

/// A masquerade rule of a live sandbox: deleted (and the table if it was the last) when dropped.
#[derive(Debug)]
pub(crate) struct NatRule {
    handle: u64,
    /// The namespace it is in (and its inode), for its deletion from any thread.
    netns: OwnedFd,
    ino: u64,
}

impl Drop for NatRule {
    fn drop(&mut self) {
        let handle = self.handle;
        in_netns(&self.netns, self.ino, || remove(handle));
    }
}

/// Turns forwarding on for `via` (the interface the sandbox's packets come in through: the
/// host end `host`, or its bridge), checks the outbound interfaces, and adds and reads back
/// the masquerade rule of the subnet of `address`/`prefix` (keyed by `host`: it goes with this
/// sandbox; sandboxes of one bridge have identical rules with their own comments).
pub(crate) fn add(host: &str, via: &str, address: Ipv4Addr, prefix: u8) -> Result<NatRule, NatError> {
    let path = format!("/proc/sys/net/ipv4/conf/{via}/forwarding");
    std::fs::write(&path, "1").map_err(|source| NatError::Proc { step: NatStep::Forwarding, path, source })?;
    // Strict reverse-path filtering forwards only sources routed back through `via`: those of
    // its connected subnet (any address of it, not only the sandbox's: on a bridge, or a veth
    // wider than /31), never a foreign one a sandbox with raw sockets could forge. The rule
    // masquerades that whole subnet, so no forwarded packet leaves under its own source.
    let path = format!("/proc/sys/net/ipv4/conf/{via}/rp_filter");
    std::fs::write(&path, "1").map_err(|source| NatError::Proc { step: NatStep::Forwarding, path, source })?;
    check_outbound(via)?;
    let netns = File::open("/proc/thread-self/ns/net").map_err(|source| NatError::Proc {
        step: NatStep::AddRule,
        path: "/proc/thread-self/ns/net".into(),
        source,
    })?;
    let ino = netns.metadata().map(|m| m.ino()).unwrap_or(0);
    NAT_SWEPT.once(netns::current_id(), || drop(sweep()));
    let comment = format!("{} {host}", name::own_alias());
    let script = format!(
        "table {TABLE} {{\n chain {CHAIN} {{ type nat hook postrouting priority srcnat; policy accept; }}\n}}\n\
         add rule {TABLE} {CHAIN} ip saddr {} oifname != \"{via}\" masquerade comment \"{comment}\"\n",
        subnet(address, prefix)
    );
    let added = {
        let _lock = lock();
        nft(NatStep::AddRule, &["--echo", "--handle", "-f", "-"], Some(&script))?
    };
    let found = rules(&added).into_iter().find(|(c, _)| *c == comment);
    let Some((_, handle)) = found else {
        purge(&comment);
        return Err(NatError::NotFound { step: NatStep::AddRule, comment });
    };
    let listing = match list(NatStep::ReadBack) {
        Ok(listing) => listing,
        Err(e) => {
            remove(handle);
            return Err(e);
        }
    };
    if !rules(&listing).contains(&(comment.clone(), handle)) {
        purge(&comment);
        return Err(NatError::NotFound { step: NatStep::ReadBack, comment });
    }
    Ok(NatRule { handle, netns: netns.into(), ino })
}

/// The subnet of `address`/`prefix` as nft writes it: `10.1.0.0/24`.
fn subnet(address: Ipv4Addr, prefix: u8) -> String {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    format!("{}/{prefix}", Ipv4Addr::from(u32::from(address) & mask))
}

/// Deletes every rule carrying `comment` (a rule added whose handle was not found: it must not
/// stay), and the table if that leaves it empty; best effort.
fn purge(comment: &str) {
    let _lock = lock();
    if let Ok(listing) = list(NatStep::Remove) {
        for handle in handles_of(&listing, comment) {
            let _ = delete_rule(handle);
        }
    }
    drop_empty_table();
}

/// The handles of the rules with `comment` in a listing.
fn handles_of(listing: &str, comment: &str) -> Vec<u64> {
    rules(listing).into_iter().filter(|(c, _)| c == comment).map(|(_, h)| h).collect()
}

/// Refuses if an interface of a default route (in this thread's namespace) does not forward.
fn check_outbound(host: &str) -> Result<(), NatError> {
    let path = "/proc/thread-self/net/route";
    let step = NatStep::OutboundForwarding;
    let routes = std::fs::read_to_string(path).map_err(|source| NatError::Proc { step, path: path.into(), source })?;
    for interface in default_interfaces(&routes).into_iter().filter(|i| i != host) {
        let path = format!("/proc/sys/net/ipv4/conf/{interface}/forwarding");
        let on = std::fs::read_to_string(&path).map_err(|source| NatError::Proc { step, path, source })?;
        if on.trim() != "1" {
            return Err(NatError::OutboundForwardingOff { step, interface });
        }
    }
    Ok(())
}

/// The interfaces of the default routes in a `/proc/net/route` text.
fn default_interfaces(routes: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for line in routes.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() > 7 && f[1] == "00000000" && f[7] == "00000000" && !found.iter().any(|i| i == f[0]) {
            found.push(f[0].to_owned());
        }
    }
    found
}

/// The (comment, handle) of each isobox rule in an `nft --handle` listing or echo.
pub(crate) fn rules(listing: &str) -> Vec<(String, u64)> {
    let parse = |line: &str| {
        let (_, rest) = line.split_once("comment \"")?;
        let (comment, rest) = rest.split_once('"')?;
        let handle = rest.split_once("# handle ")?.1.trim().parse().ok()?;
        comment.starts_with("isobox ").then(|| (comment.to_owned(), handle))
    };
    listing.lines().filter_map(parse).collect()
}

/// The chain, with handles; an empty text if there is no table.
fn list(step: NatStep) -> Result<String, NatError> {
    nft(step, &["--handle", "list", "chain", "ip", "isobox", CHAIN], None)
}

/// Runs `nft args` (in the calling thread's network namespace), `stdin` written to it.
/// Its input and output are private files, not pipes: a sandbox of another thread cloned
/// meanwhile holds copies of this process's descriptors until its own set-up closes them, and
/// that set-up may wait for this one's lock; an EOF on a pipe would wait for it (a deadlock).
/// The files are read once nft has exited.
fn nft(step: NatStep, args: &[&str], stdin: Option<&str>) -> Result<String, NatError> {
    let tool = |source| NatError::Tool { step, source };
    let file = || crate::sys::usermode::stderr_file().map_err(tool);
    let (input, output, errors) = (file()?, file()?, file()?);
    if let Some(text) = stdin {
        (&input).write_all(text.as_bytes()).map_err(tool)?;
        (&input).seek(SeekFrom::Start(0)).map_err(tool)?;
    }
    let status = Command::new(nft_program())
        .args(args)
        .env_clear()
        .stdin(if stdin.is_some() { Stdio::from(input) } else { Stdio::null() })
        .stdout(Stdio::from(output.try_clone().map_err(tool)?))
        .stderr(Stdio::from(errors.try_clone().map_err(tool)?))
        .status()
        .map_err(tool)?;
    let read = |mut f: &File| -> Result<String, NatError> {
        let mut text = String::new();
        f.seek(SeekFrom::Start(0)).and_then(|_| f.read_to_string(&mut text)).map_err(tool)?;
        Ok(text)
    };
    if !status.success() {
        return Err(NatError::Nft { step, status: status.to_string(), stderr: read(&errors)?.trim().to_owned() });
    }
    read(&output)
}

/// nft from the system's own directories, never from the caller's PATH (isobox runs it as
/// root); plain `nft` if neither has it (the error then names it).
fn nft_program() -> &'static str {
    ["/usr/sbin/nft", "/sbin/nft"].into_iter().find(|p| std::path::Path::new(p).exists()).unwrap_or("nft")
}

/// Deletes rule `handle`, and the table if no rule is left (best effort).
fn remove(handle: u64) {
    let lock = lock();
    let _ = delete_rule(handle);
    if lock.is_some() {
        drop_empty_table(); // without the lock, another process may be adding to it: it stays
    }
}

fn delete_rule(handle: u64) -> Result<String, NatError> {
    nft(NatStep::Remove, &["delete", "rule", "ip", "isobox", CHAIN, "handle", &handle.to_string()], None)
}

/// Deletes the table if its chain has no rule at all (called with the lock held).
fn drop_empty_table() {
    if let Ok(listing) = list(NatStep::Remove) {
        let is_rule = |l: &&str| l.contains("# handle") && !l.trim_start().starts_with("chain ");
        if listing.contains("table ip isobox") && !listing.lines().any(|l| is_rule(&l)) {
            let _ = nft(NatStep::Remove, &["delete", "table", "ip", "isobox"], None);
        }
    }
}

/// The lock over the table's changes, if it can be taken.
fn lock() -> Option<Flock<File>> {
    let file = File::options().create(true).truncate(false).write(true).open(LOCK).ok()?;
    Flock::lock(file, FlockArg::LockExclusive).ok()
}

/// Runs `f` in `netns` (inode `ino`): on the calling thread if it is there, else on a thread
/// that enters it (and ends there).
fn in_netns(netns: &OwnedFd, ino: u64, f: impl FnOnce() + Send) {
    if std::fs::metadata("/proc/thread-self/ns/net").is_ok_and(|m| m.ino() == ino) {
        return f();
    }
    std::thread::scope(|s| {
        let _ = s.spawn(|| setns(netns.as_fd(), CloneFlags::CLONE_NEWNET).map(|()| f())).join();
    });
}

/// The namespaces whose rules of dead owners this process deleted (once per namespace).
static NAT_SWEPT: DoneIn = DoneIn::new();

/// Deletes the rules of dead owners of this pid namespace in the calling thread's network
/// namespace; returns their comments.
pub(crate) fn sweep() -> Vec<String> {
    let Some(_lock) = lock() else { return Vec::new() };
    let Ok(listing) = list(NatStep::Remove) else { return Vec::new() };
    let mut gone = Vec::new();
    for (comment, handle) in rules(&listing) {
        let owner = comment.rsplit_once(' ').and_then(|(alias, _)| name::alias_owner(alias));
        if owner.is_some_and(|(ns, pid, start)| name::owner_gone(ns, pid, start)) && delete_rule(handle).is_ok() {
            gone.push(comment);
        }
    }
    drop_empty_table();
    gone
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_give_isobox_rules_and_routes_give_default_interfaces() {
        let listing = "table ip isobox {\n\tchain postrouting { # handle 1\n\t\ttype nat hook postrouting priority \
             srcnat; policy accept;\n\t\tip saddr 10.1.0.2 oifname != \"ibx1-0\" masquerade comment \"isobox 4 1 9 \
             ibx1-0\" # handle 2\n\t\tip saddr 10.1.0.6 masquerade comment \"someone\" # handle 3\n\t\tip saddr \
             10.1.0.9 masquerade # handle 4\n\t}\n}\n";
        assert_eq!(rules(listing), vec![("isobox 4 1 9 ibx1-0".to_owned(), 2)]);
        assert_eq!(rules(""), vec![]);
        assert_eq!(handles_of(listing, "isobox 4 1 9 ibx1-0"), vec![2]);
        assert_eq!(handles_of(listing, "isobox 4 1 9 ibx1-1"), Vec::<u64>::new());
        assert_eq!(handles_of(listing, "someone"), Vec::<u64>::new(), "not isobox's: never deleted");
        let twice = format!("{listing}\t\tip saddr 10.1.0.2 masquerade comment \"isobox 4 1 9 ibx1-0\" # handle 7\n");
        assert_eq!(handles_of(&twice, "isobox 4 1 9 ibx1-0"), vec![2, 7]);
        let routes = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n\
             eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
             eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
             wg0\t00000000\t00000000\t0001\t0\t0\t5\t00000000\t0\t0\t0\n\
             eth0\t00000000\t0200A8C0\t0003\t0\t0\t9\t00000000\t0\t0\t0\n";
        assert_eq!(default_interfaces(routes), vec!["eth0".to_owned(), "wg0".to_owned()]);
        assert_eq!(default_interfaces("Iface\tDestination\n"), Vec::<String>::new());
        assert_eq!(subnet(Ipv4Addr::new(10, 1, 7, 2), 24), "10.1.7.0/24");
        assert_eq!(subnet(Ipv4Addr::new(10, 1, 7, 3), 31), "10.1.7.2/31");
        assert_eq!(subnet(Ipv4Addr::new(10, 1, 255, 9), 16), "10.1.0.0/16");
    }
}
