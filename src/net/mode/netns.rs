//! The calling thread's network namespace, entered and left (**parent**).
//!
//! `setns(CLONE_NEWNET)` changes only the calling thread, and is allowed in a multi-threaded
//! process (unlike a user or mount namespace). `Network::Join` enters the namespace right
//! before the clone, so the child is born there, and the veth setup enters the sandbox's to
//! open a netlink socket there (a socket stays in the namespace it was made in). Both go back
//! right after, when the guard is dropped, on every path.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::Mutex;

use nix::errno::Errno;
use nix::sched::{setns, CloneFlags};

use super::error::NetworkError;

/// A network namespace file, opened read-only and close-on-exec.
pub(crate) fn open(path: &str) -> Result<OwnedFd, NetworkError> {
    File::open(path).map(OwnedFd::from).map_err(|source| NetworkError::Open { path: path.to_string(), source })
}

/// The id of the calling thread's network namespace (the cookie of a socket made there): a
/// namespace's inode is given to a new one once it is freed, a cookie never is. `None` when
/// the kernel (before 5.14) or the socket says nothing.
pub(crate) fn current_id() -> Option<u64> {
    let socket = crate::sys::netlink::open_owned().ok()?;
    crate::sys::netlink::netns_cookie(socket.as_raw_fd()).ok()
}

/// Whether `ns` is the calling thread's own network namespace (the same namespace file),
/// or cannot be told apart from it.
pub(crate) fn is_own(ns: BorrowedFd<'_>) -> bool {
    let key = |st: nix::sys::stat::FileStat| (st.st_dev, st.st_ino);
    match (nix::sys::stat::fstat(ns.as_raw_fd()), nix::sys::stat::stat("/proc/thread-self/ns/net")) {
        (Ok(theirs), Ok(ours)) => key(theirs) == key(ours),
        _ => true,
    }
}

/// The network namespaces something was done in once, by id ([`current_id`]).
pub(crate) struct DoneIn(Mutex<Vec<u64>>);

impl DoneIn {
    pub(crate) const fn new() -> Self {
        Self(Mutex::new(Vec::new()))
    }

    /// Runs `f` unless it ran in namespace `id` already; always without an id, which could
    /// not tell a new namespace from an old one.
    pub(crate) fn once(&self, id: Option<u64>, f: impl FnOnce()) {
        let mut done = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match id {
            Some(id) if done.contains(&id) => {}
            Some(id) => {
                f();
                done.push(id);
            }
            None => f(),
        }
    }
}

/// The calling thread in another network namespace until this is dropped.
#[derive(Debug)]
#[must_use = "the thread goes back when this is dropped"]
pub(crate) struct Entered {
    own: Option<OwnedFd>,
}

impl Entered {
    /// Moves the calling thread into `target`, remembering its own namespace; `err` turns a
    /// refusal into the caller's error.
    pub(crate) fn enter(target: BorrowedFd<'_>, err: impl FnOnce(Errno) -> NetworkError) -> Result<Self, NetworkError> {
        let own = open("/proc/thread-self/ns/net")?;
        setns(target, CloneFlags::CLONE_NEWNET).map_err(err)?;
        Ok(Entered { own: Some(own) })
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        if let Some(own) = self.own.take() {
            if setns(own.as_fd(), CloneFlags::CLONE_NEWNET).is_err() {
                // A thread left in a sandbox's or a joined namespace would put the caller's
                // later sockets and spawns there: no way to go on safely. setns back into a
                // namespace the thread was in fails only for lack of memory.
                std::process::abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn inode() -> u64 {
        std::fs::metadata("/proc/thread-self/ns/net").unwrap().ino()
    }

    #[test]
    fn done_in_runs_once_per_namespace_id_and_always_without_one() {
        let done = DoneIn::new();
        let mut runs = 0;
        for id in [Some(3), Some(3), Some(4), None, None, Some(4)] {
            done.once(id, || runs += 1);
        }
        assert_eq!(runs, 4);
    }

    #[test]
    fn the_namespace_id_is_the_same_for_two_sockets_of_one_namespace() {
        // Linux 5.14+ (this project's kernels): a cookie, and one per namespace.
        let id = current_id().expect("SO_NETNS_COOKIE");
        assert_eq!(current_id(), Some(id));
        assert_ne!(id, 0);
    }

    #[test]
    fn entering_our_own_namespace_and_leaving_keeps_the_thread_where_it_was() {
        // Needs CAP_SYS_ADMIN even for one's own namespace: as a user, the typed refusal.
        let before = inode();
        let own = open("/proc/thread-self/ns/net").unwrap();
        match Entered::enter(own.as_fd(), |errno| NetworkError::Join { errno }) {
            Ok(entered) => drop(entered),
            Err(NetworkError::Join { errno }) => assert_eq!(errno, Errno::EPERM),
            Err(e) => panic!("{e}"),
        }
        assert_eq!(inode(), before);
        assert!(matches!(open("/proc/self/ns/none"), Err(NetworkError::Open { .. })));
    }
}
