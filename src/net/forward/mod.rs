//! TCP port forwarding for a veth sandbox (**parent**): connections to an address of the
//! caller's network namespace are carried to an address inside the sandbox by threads of
//! isobox's, as docker-proxy does for loopback. No firewall rule to write or leave behind:
//! everything ends when the forwarder is dropped (with its `Child`), or with the process.
//!
//! [`TcpForwarder::start`] binds at once, so a port that is taken is an error of the spawn;
//! each accepted connection gets a connection to the target and two copying threads, at most
//! [`MAX_CONNECTIONS`] at a time (more are closed at once: a flood cannot take the caller's
//! threads).

use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// The most connections one forwarder carries at once.
pub const MAX_CONNECTIONS: usize = 256;

/// How long a connection to the sandbox may take before the host's connection is closed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One forwarded port, carried until dropped.
#[derive(Debug)]
pub(crate) struct TcpForwarder {
    #[cfg_attr(not(test), allow(dead_code))] // forwards name their port; tests take any
    local: SocketAddr,
    shared: Arc<Shared>,
    /// Written (closed) to stop the accepting thread.
    stop: Option<OwnedFd>,
    accepting: Option<JoinHandle<()>>,
}

/// The open connections (both ends), by number, so that a stop can shut them down.
#[derive(Debug, Default)]
struct Shared {
    open: Mutex<(u64, HashMap<u64, Vec<TcpStream>>)>,
}

impl TcpForwarder {
    /// Listens on `listen` (port 0: any free one) and carries each connection to `target`.
    pub fn start(listen: SocketAddr, target: SocketAddr) -> io::Result<TcpForwarder> {
        let listener = TcpListener::bind(listen)?;
        let local = listener.local_addr()?;
        let (stop_read, stop_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        let shared = Arc::new(Shared::default());
        let for_thread = Arc::clone(&shared);
        let accepting = std::thread::Builder::new()
            .name("isobox-forward".into())
            .spawn(move || accept_until_stopped(&listener, &stop_read, &for_thread, target))?;
        Ok(TcpForwarder { local, shared, stop: Some(stop_write), accepting: Some(accepting) })
    }

    /// The address it listens on (the port the kernel chose, for port 0).
    #[must_use]
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

impl Drop for TcpForwarder {
    fn drop(&mut self) {
        drop(self.stop.take()); // EOF on the pipe: the accepting thread returns
        if let Some(accepting) = self.accepting.take() {
            let _ = accepting.join();
        }
        let open = std::mem::take(&mut self.shared.lock().1);
        for stream in open.values().flatten() {
            let _ = stream.shutdown(Shutdown::Both); // the copying threads see EOF and end
        }
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, HashMap<u64, Vec<TcpStream>>)> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a connection; `None` when [`MAX_CONNECTIONS`] are open.
    fn register(&self, stream: &TcpStream) -> Option<u64> {
        let mut open = self.lock();
        if open.1.len() >= MAX_CONNECTIONS {
            return None;
        }
        let id = open.0;
        open.0 += 1;
        open.1.insert(id, vec![stream.try_clone().ok()?]);
        Some(id)
    }

    /// Adds the sandbox's end of connection `id`; false if the forwarder stopped meanwhile.
    fn add(&self, id: u64, stream: &TcpStream) -> bool {
        let (mut open, clone) = (self.lock(), stream.try_clone());
        match (open.1.get_mut(&id), clone) {
            (Some(ends), Ok(clone)) => {
                ends.push(clone);
                true
            }
            _ => false,
        }
    }
}

fn accept_until_stopped(listener: &TcpListener, stop: &OwnedFd, shared: &Arc<Shared>, target: SocketAddr) {
    loop {
        let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN), PollFd::new(stop.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return,
            Ok(_) => {}
        }
        if fds[1].revents().is_some_and(|r| !r.is_empty()) {
            return;
        }
        if let Ok((host_side, _)) = listener.accept() {
            carry(host_side, shared, target);
        }
    }
}

/// Connects `host_side` to `target` on a thread of its own, then copies both ways.
fn carry(host_side: TcpStream, shared: &Arc<Shared>, target: SocketAddr) {
    let Some(id) = shared.register(&host_side) else {
        return; // too many: closed
    };
    let for_thread = Arc::clone(shared);
    let started = std::thread::Builder::new().name("isobox-forward".into()).spawn(move || {
        if let Ok(inside) = TcpStream::connect_timeout(&target, CONNECT_TIMEOUT) {
            if for_thread.add(id, &inside) {
                copy_both_ways(&host_side, &inside);
            }
        }
        let _ = host_side.shutdown(Shutdown::Both);
        for_thread.lock().1.remove(&id);
    });
    if started.is_err() {
        shared.lock().1.remove(&id);
    }
}

/// Copies `a` to `b` on a second thread and `b` to `a` on this one, each direction's end
/// passed on as a half close; returns when both are done.
fn copy_both_ways(a: &TcpStream, b: &TcpStream) {
    let (Ok(a1), Ok(a2), Ok(b1), Ok(b2)) = (a.try_clone(), a.try_clone(), b.try_clone(), b.try_clone()) else {
        return;
    };
    let forth = std::thread::Builder::new().name("isobox-forward".into()).spawn(move || one_way(a1, b1));
    one_way(b2, a2);
    if let Ok(forth) = forth {
        let _ = forth.join();
    }
    let _ = b.shutdown(Shutdown::Both);
}

fn one_way(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests;
