//! Reading the kernel's replies (**parent**): the messages of a datagram, the attributes of a
//! message, and acks with their errno and extended-ack text. Bounds-checked: a malformed
//! reply ends the iteration instead of panicking.

use super::consts::{NLMSGERR_ATTR_MSG, NLM_F_ACK_TLVS, NLM_F_CAPPED};
use super::writer::{align, NLA_HDRLEN, NLMSG_HDRLEN};

/// One message of a reply.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Msg<'a> {
    /// `nlmsg_type`.
    pub kind: u16,
    /// `nlmsg_flags`.
    pub flags: u16,
    /// `nlmsg_seq`.
    pub seq: u32,
    /// What follows the header.
    pub payload: &'a [u8],
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

pub(crate) fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The messages in `datagram`, in order; stops at the first malformed one.
pub(crate) fn messages(datagram: &[u8]) -> impl Iterator<Item = Msg<'_>> {
    let mut rest = datagram;
    std::iter::from_fn(move || {
        let len = u32_at(rest, 0)? as usize;
        if len < NLMSG_HDRLEN || len > rest.len() {
            return None;
        }
        let msg = Msg {
            kind: u16_at(rest, 4)?,
            flags: u16_at(rest, 6)?,
            seq: u32_at(rest, 8)?,
            payload: &rest[NLMSG_HDRLEN..len],
        };
        rest = rest.get(align(len)..).unwrap_or(&[]);
        Some(msg)
    })
}

/// The attributes `(type, payload)` in `bytes`; the nested flag bits of the type are cleared.
pub(crate) fn attrs(bytes: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        let len = u16_at(rest, 0)? as usize;
        if len < NLA_HDRLEN || len > rest.len() {
            return None;
        }
        let attr = (u16_at(rest, 2)? & 0x3fff, &rest[NLA_HDRLEN..len]);
        rest = rest.get(align(len)..).unwrap_or(&[]);
        Some(attr)
    })
}

/// The payload of the attribute `kind` in `bytes`.
pub(crate) fn find(bytes: &[u8], kind: u16) -> Option<&[u8]> {
    attrs(bytes).find(|(k, _)| *k == kind).map(|(_, v)| v)
}

/// A string attribute without its NUL.
pub(crate) fn text(payload: &[u8]) -> String {
    let end = payload.iter().position(|&b| b == 0).unwrap_or(payload.len());
    String::from_utf8_lossy(&payload[..end]).into_owned()
}

/// An `NLMSG_ERROR` message: its errno (0 for an ack) and the kernel's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ack {
    /// The positive errno, 0 on success.
    pub errno: i32,
    /// `NLMSGERR_ATTR_MSG`, if present.
    pub message: Option<String>,
}

/// Parses the payload of an `NLMSG_ERROR` message with header flags `flags`, or `None` if it
/// is too short.
pub(crate) fn ack(msg: &Msg<'_>) -> Option<Ack> {
    let errno = -(u32_at(msg.payload, 0)? as i32);
    let mut message = None;
    if msg.flags & NLM_F_ACK_TLVS != 0 {
        // After the errno: the request's header, and unless capped, the rest of the request.
        let request_len = u32_at(msg.payload, 4)? as usize;
        let skip = 4 + if msg.flags & NLM_F_CAPPED != 0 { NLMSG_HDRLEN } else { align(request_len) };
        message = msg.payload.get(skip..).and_then(|tlvs| find(tlvs, NLMSGERR_ATTR_MSG)).map(text);
    }
    Some(Ack { errno, message })
}

#[cfg(test)]
mod tests {
    use super::super::writer::MsgWriter;
    use super::*;

    /// An error ack as the kernel writes it with NETLINK_CAP_ACK and NETLINK_EXT_ACK.
    fn error_ack(errno: i32, text: &str) -> Vec<u8> {
        let mut request = MsgWriter::<64>::new();
        request.begin(16, 5, 9);
        let request = request.finish().unwrap().to_vec();
        let mut w = MsgWriter::<128>::new();
        w.begin(2, NLM_F_CAPPED | NLM_F_ACK_TLVS, 9);
        w.put(&(-errno).to_ne_bytes());
        w.put(&request);
        w.attr_str(NLMSGERR_ATTR_MSG, text);
        w.finish().unwrap().to_vec()
    }

    #[test]
    fn an_extended_ack_gives_errno_and_text() {
        let datagram = error_ack(17, "File exists");
        let msg = messages(&datagram).next().unwrap();
        assert_eq!((msg.kind, msg.seq), (2, 9));
        assert_eq!(ack(&msg), Some(Ack { errno: 17, message: Some("File exists".into()) }));
    }

    #[test]
    fn several_messages_and_a_truncated_tail() {
        let mut datagram = error_ack(0, "x");
        datagram.extend(error_ack(22, "bad"));
        datagram.extend([40, 0, 0, 0, 2, 0]);
        let msgs: Vec<_> = messages(&datagram).filter_map(|m| ack(&m)).map(|a| a.errno).collect();
        assert_eq!(msgs, [0, 22]);
    }

    #[test]
    fn attributes_stop_at_a_bad_length() {
        let bytes = [8, 0, 3, 0, b'l', b'o', 0, 0, 200, 0, 1, 0];
        let found: Vec<_> = attrs(&bytes).map(|(k, v)| (k, text(v))).collect();
        assert_eq!(found, [(3, "lo".to_string())]);
        assert_eq!(find(&bytes, 1), None);
    }
}
