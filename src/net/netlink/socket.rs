//! A `NETLINK_ROUTE` socket of the **parent**, in the network namespace of the thread that
//! opened it: one request at a time, sent with `NLM_F_REQUEST|NLM_F_ACK` and answered by its
//! ack (or, for a dump, `NLMSG_DONE`), replies read into a bounded buffer.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;

use super::consts::{NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_REQUEST};
use super::error::{NetOp, NetlinkError};
use super::parse::{self, Msg};
use super::writer::MsgWriter;
use crate::sys::netlink as sys;

/// The largest request isobox writes (a veth pair with its peer and namespace is ~100 bytes).
pub(crate) const REQUEST_SIZE: usize = 1024;
/// The receive buffer: one datagram of a dump is at most 32 KiB on Linux.
const REPLY_SIZE: usize = 64 << 10;

/// One request being written.
pub(crate) type Request = MsgWriter<REQUEST_SIZE>;

/// What a request is about, for its error.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    /// The operation.
    pub op: NetOp,
    /// The interface, if any.
    pub ifname: Option<&'a str>,
}

impl Context<'_> {
    /// The error of this request with `errno`.
    pub(crate) fn error(&self, errno: Errno) -> NetlinkError {
        NetlinkError::new(self.op, self.ifname, errno)
    }
}

/// A `NETLINK_ROUTE` socket with its sequence numbers and receive buffer.
pub(crate) struct Netlink {
    fd: OwnedFd,
    seq: u32,
    buf: Vec<u8>,
}

/// Without the receive buffer: a `Child`'s debug output would otherwise carry kilobytes of it.
impl std::fmt::Debug for Netlink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Netlink").field("fd", &self.fd).field("seq", &self.seq).finish_non_exhaustive()
    }
}

impl Netlink {
    /// Opens a socket in the calling thread's network namespace.
    pub(crate) fn open() -> Result<Self, NetlinkError> {
        let fd = sys::open_owned().map_err(|e| NetlinkError::new(NetOp::Socket, None, e))?;
        Ok(Self { fd, seq: 0, buf: vec![0; REPLY_SIZE] })
    }

    /// The id of the network namespace this socket is in, never reused while the machine
    /// runs (its cookie); `None` before Linux 5.14.
    pub(crate) fn netns_id(&self) -> Option<u64> {
        sys::netns_cookie(self.fd.as_raw_fd()).ok()
    }

    /// A new request of type `kind` with `flags` (plus `NLM_F_REQUEST`, and `NLM_F_ACK` unless
    /// it is a dump) and the next sequence number.
    pub(crate) fn request(&mut self, kind: u16, flags: u16, dump: bool) -> Request {
        self.seq = self.seq.wrapping_add(1);
        let mut req = Request::new();
        let ack = if dump { 0 } else { NLM_F_ACK };
        req.begin(kind, NLM_F_REQUEST | ack | flags, self.seq);
        req
    }

    /// Sends `req` (the last one [`Netlink::request`] made) and reads until its ack or the
    /// end of its dump; every other message answering it goes to `on_reply`.
    pub(crate) fn transact(
        &mut self,
        req: &mut Request,
        cx: Context<'_>,
        mut on_reply: impl FnMut(&Msg<'_>),
    ) -> Result<(), NetlinkError> {
        let msg = req.finish().map_err(|_| cx.error(Errno::EMSGSIZE))?;
        let sent = sys::send(self.fd.as_raw_fd(), msg).map_err(|e| cx.error(e))?;
        if sent != msg.len() {
            return Err(cx.error(Errno::EMSGSIZE));
        }
        loop {
            let n = sys::recv(self.fd.as_raw_fd(), &mut self.buf).map_err(|e| cx.error(e))?;
            if n > self.buf.len() {
                return Err(cx.error(Errno::EBADMSG));
            }
            for msg in parse::messages(&self.buf[..n]).filter(|m| m.seq == self.seq) {
                match msg.kind {
                    NLMSG_ERROR => return ack_result(&msg, cx),
                    NLMSG_DONE => return done_result(&msg, cx),
                    _ => on_reply(&msg),
                }
            }
        }
    }

    /// [`Netlink::transact`] for a request with no reply but its ack.
    pub(crate) fn ack(&mut self, req: &mut Request, cx: Context<'_>) -> Result<(), NetlinkError> {
        self.transact(req, cx, |_| {})
    }
}

fn ack_result(msg: &Msg<'_>, cx: Context<'_>) -> Result<(), NetlinkError> {
    let ack = parse::ack(msg).ok_or_else(|| cx.error(Errno::EBADMSG))?;
    if ack.errno == 0 {
        return Ok(());
    }
    let mut e = cx.error(Errno::from_raw(ack.errno));
    e.message = ack.message;
    Err(e)
}

/// `NLMSG_DONE` carries an int: 0, or a dump's negative errno.
fn done_result(msg: &Msg<'_>, cx: Context<'_>) -> Result<(), NetlinkError> {
    match parse::u32_at(msg.payload, 0).map(|v| -(v as i32)) {
        Some(0) | None => Ok(()),
        Some(errno) => Err(cx.error(Errno::from_raw(errno))),
    }
}
