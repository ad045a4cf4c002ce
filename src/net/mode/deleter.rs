//! Deleting host-side veths off the caller's path (**parent**: one thread of isobox's for
//! the process, started at the first veth's end).
//!
//! Deleting a veth whose peer's namespace is alive is synchronous and slow (measured here:
//! ~57 ms a pair, the kernel's unregistering waits for RCU grace periods), while the kernel
//! removes the pair by itself, in batches, once the sandbox's namespace dies, which is
//! moments after its `Child` is reaped. So an ended pair is handed to this thread, which
//! checks every [`TICK`] whether the kernel has removed it, and deletes it itself once it has
//! stood for [`GRACE`] (the namespace is held by something else: a process that outlived the
//! sandbox's first one, a descriptor).

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nix::errno::Errno;

use crate::net::netlink::link;
use crate::net::netlink::socket::Netlink;

/// How often the thread looks for the pairs it holds.
const TICK: Duration = Duration::from_millis(50);
/// How long a pair may stand before the thread deletes it.
pub(crate) const GRACE: Duration = Duration::from_millis(500);
/// How long an ended port's bridge stands before the thread deletes it if it is empty: spawns
/// that follow one another keep it instead of paying its deletion (~40 ms of RCU waits, with
/// the bridge lock held) and creation each time.
pub(crate) const BRIDGE_LINGER: Duration = Duration::from_millis(300);

/// A host end to delete, with a socket in its namespace, and the ifb of its egress limit
/// (which no namespace's end removes: deleted at once, on the thread; one left by a process
/// that exits first is swept by the next, [`super::sweep`]).
#[derive(Debug)]
pub(crate) struct Ended {
    pub name: String,
    pub nl: Netlink,
    /// The ifb of its egress limit on the host side, if any: deleted first.
    pub ifb: Option<String>,
    /// The bridge it was a port of (freed already): deleted after [`BRIDGE_LINGER`] if it
    /// has no port left by then.
    pub bridge: Option<String>,
    /// A masquerade rule to delete first (when dropped: two runs of `nft`); `HostVeth`'s drop
    /// deletes its own on the `wait` (a backlog built up here).
    pub nat: Option<super::nat::NatRule>,
}

/// A pair on its way to the thread, and when it ended.
type Queued = (Box<Ended>, Instant);

/// Deletes `ended` soon, on isobox's thread (or now if that thread cannot be started).
pub(crate) fn delete_soon(ended: Ended) {
    static QUEUE: OnceLock<Option<Sender<Queued>>> = OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (tx, rx) = mpsc::channel();
        let inherited = crate::pool::priority::inherited();
        let thread = std::thread::Builder::new().name("isobox-veth".into()).spawn(move || {
            inherited.undo();
            run(rx)
        });
        thread.ok().map(|_| tx)
    });
    let at = Instant::now();
    if let Some(Err(mpsc::SendError((mut ended, _)))) = queue.as_ref().map(|tx| tx.send((Box::new(ended), at))) {
        ended.nat = None;
        if let Some(ifb) = ended.ifb.take() {
            let _ = link::delete(&mut ended.nl, &ifb);
        }
        let _ = link::delete(&mut ended.nl, &ended.name);
        if let Some(bridge) = ended.bridge.take() {
            super::bridge::remove_if_empty(&mut ended.nl, &bridge);
        }
    }
}

fn run(rx: Receiver<Queued>) {
    let mut held: Vec<Queued> = Vec::new();
    loop {
        let got =
            if held.is_empty() { rx.recv().map_err(|_| RecvTimeoutError::Disconnected) } else { rx.recv_timeout(TICK) };
        match got {
            Ok(item) => held.push(item),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        held.extend(rx.try_iter());
        held.retain_mut(|(ended, at)| still_held(ended, *at));
    }
}

/// Whether the pair still stands and is left for the kernel a while longer; deletes it once
/// its grace has passed.
fn still_held(ended: &mut Ended, at: Instant) -> bool {
    ended.nat = None;
    if let Some(ifb) = ended.ifb.take() {
        let _ = link::delete(&mut ended.nl, &ifb);
    }
    if ended.bridge.is_some() && at.elapsed() >= BRIDGE_LINGER {
        let bridge = ended.bridge.take().unwrap_or_default();
        super::bridge::remove_if_empty(&mut ended.nl, &bridge);
    }
    let pair = match link::index(&mut ended.nl, &ended.name) {
        Err(e) if e.errno == Errno::ENODEV => false,
        _ if at.elapsed() >= GRACE => {
            let _ = link::delete(&mut ended.nl, &ended.name);
            false
        }
        _ => true,
    };
    pair || ended.bridge.is_some()
}
