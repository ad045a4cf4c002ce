//! A netlink message written into a fixed buffer (**parent** today; built for the **child**
//! too): no allocation, no panic. An `nlmsghdr`, a fixed family header (`ifinfomsg`,
//! `ifaddrmsg`, …) and attributes, nested or not, each padded to 4 bytes. A write that does
//! not fit marks the message overflowed instead of panicking; [`MsgWriter::finish`] reports it.

/// Netlink's alignment: headers and attributes start on 4 bytes.
pub(crate) const ALIGN: usize = 4;
/// The size of `struct nlmsghdr`.
pub(crate) const NLMSG_HDRLEN: usize = 16;
/// The size of `struct nlattr`.
pub(crate) const NLA_HDRLEN: usize = 4;

/// `len` rounded up to netlink's alignment.
#[must_use]
pub(crate) const fn align(len: usize) -> usize {
    (len + ALIGN - 1) & !(ALIGN - 1)
}

/// The message did not fit in the writer's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overflow;

/// Where a nested attribute starts, to close it with [`MsgWriter::end_nest`].
#[derive(Debug, Clone, Copy)]
#[must_use]
pub(crate) struct Nest(usize);

/// One netlink message in a fixed `[u8; N]` buffer.
#[derive(Debug, Clone)]
pub(crate) struct MsgWriter<const N: usize> {
    buf: [u8; N],
    len: usize,
    overflow: bool,
}

impl<const N: usize> Default for MsgWriter<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> MsgWriter<N> {
    /// An empty writer.
    #[must_use]
    pub(crate) const fn new() -> Self {
        Self { buf: [0; N], len: 0, overflow: false }
    }

    /// Starts a message (dropping any previous one): the `nlmsghdr` with type `kind`, flags
    /// and sequence number `seq`; its length is written by [`MsgWriter::finish`].
    pub(crate) fn begin(&mut self, kind: u16, flags: u16, seq: u32) {
        self.len = 0;
        self.overflow = false;
        let mut hdr = [0u8; NLMSG_HDRLEN];
        hdr[4..6].copy_from_slice(&kind.to_ne_bytes());
        hdr[6..8].copy_from_slice(&flags.to_ne_bytes());
        hdr[8..12].copy_from_slice(&seq.to_ne_bytes());
        self.put(&hdr);
    }

    /// Appends `bytes` (a family header, or an attribute's payload), then pads to 4 bytes.
    pub(crate) fn put(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        let padded = align(end);
        if self.overflow || padded > N {
            self.overflow = true;
            return;
        }
        self.buf[self.len..end].copy_from_slice(bytes);
        self.buf[end..padded].fill(0);
        self.len = padded;
    }

    /// Appends the attribute `kind` with `payload`.
    pub(crate) fn attr(&mut self, kind: u16, payload: &[u8]) {
        let Ok(len) = u16::try_from(NLA_HDRLEN + payload.len()) else {
            self.overflow = true;
            return;
        };
        self.put(&nla_header(len, kind));
        self.put(payload);
    }

    /// Appends a `u32` attribute (host byte order, as rtnetlink wants).
    pub(crate) fn attr_u32(&mut self, kind: u16, value: u32) {
        self.attr(kind, &value.to_ne_bytes());
    }

    /// Appends a `u64` attribute.
    pub(crate) fn attr_u64(&mut self, kind: u16, value: u64) {
        self.attr(kind, &value.to_ne_bytes());
    }

    /// Appends a string attribute, NUL-terminated (as `IFLA_IFNAME` and `*_KIND` want). A
    /// string with a NUL inside cannot be written: the message is marked overflowed.
    pub(crate) fn attr_str(&mut self, kind: u16, value: &str) {
        if value.as_bytes().contains(&0) {
            self.overflow = true;
            return;
        }
        let Ok(len) = u16::try_from(NLA_HDRLEN + value.len() + 1) else {
            self.overflow = true;
            return;
        };
        self.put(&nla_header(len, kind));
        let start = self.len;
        self.put(value.as_bytes());
        // The padding `put` wrote after the string holds its NUL; without any (a length of
        // 4n), add one.
        if !self.overflow && self.len == start + value.len() {
            self.put(&[0]);
        }
    }

    /// Opens the nested attribute `kind`; attributes written until [`MsgWriter::end_nest`]
    /// go inside it.
    pub(crate) fn begin_nest(&mut self, kind: u16) -> Nest {
        let start = self.len;
        self.put(&nla_header(0, kind));
        Nest(start)
    }

    /// Closes a nested attribute: writes its length.
    pub(crate) fn end_nest(&mut self, nest: Nest) {
        if self.overflow {
            return;
        }
        match u16::try_from(self.len - nest.0) {
            Ok(len) => self.buf[nest.0..nest.0 + 2].copy_from_slice(&len.to_ne_bytes()),
            Err(_) => self.overflow = true,
        }
    }

    /// The finished message (its `nlmsg_len` written), or [`Overflow`] if any write did not fit.
    pub(crate) fn finish(&mut self) -> Result<&[u8], Overflow> {
        if self.overflow || self.len < NLMSG_HDRLEN {
            return Err(Overflow);
        }
        self.buf[0..4].copy_from_slice(&(self.len as u32).to_ne_bytes());
        Ok(&self.buf[..self.len])
    }
}

fn nla_header(len: u16, kind: u16) -> [u8; NLA_HDRLEN] {
    let mut hdr = [0u8; NLA_HDRLEN];
    hdr[0..2].copy_from_slice(&len.to_ne_bytes());
    hdr[2..4].copy_from_slice(&kind.to_ne_bytes());
    hdr
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_ne_bytes([b[at], b[at + 1]])
    }

    #[test]
    fn header_attrs_and_padding() {
        let mut w = MsgWriter::<64>::new();
        w.begin(16, 5, 7);
        w.put(&[1, 2, 3]);
        w.attr_str(3, "eth0");
        let msg = w.finish().unwrap();
        // 16 header + 4 (3 padded) + 4 nla + 5 ("eth0\0") padded to 8.
        assert_eq!(msg.len(), 32);
        assert_eq!(u32::from_ne_bytes(msg[0..4].try_into().unwrap()), 32);
        assert_eq!((u16_at(msg, 4), u16_at(msg, 6)), (16, 5));
        assert_eq!(&msg[16..20], &[1, 2, 3, 0]);
        assert_eq!((u16_at(msg, 20), u16_at(msg, 22)), (9, 3));
        assert_eq!(&msg[24..29], b"eth0\0");
    }

    #[test]
    fn a_string_of_four_bytes_still_gets_its_nul() {
        let mut w = MsgWriter::<64>::new();
        w.begin(0, 0, 0);
        w.attr_str(1, "abc");
        w.attr_str(2, "abcd");
        let msg = w.finish().unwrap();
        assert_eq!(u16_at(msg, 16), 8);
        assert_eq!(&msg[20..24], b"abc\0");
        assert_eq!(u16_at(msg, 24), 9);
        assert_eq!(&msg[28..33], b"abcd\0");
        assert_eq!(msg.len(), 36);
    }

    #[test]
    fn nests_record_their_length() {
        let mut w = MsgWriter::<64>::new();
        w.begin(0, 0, 0);
        let outer = w.begin_nest(18);
        w.attr_u32(1, 9);
        let inner = w.begin_nest(2);
        w.attr_u64(3, 1);
        w.end_nest(inner);
        w.end_nest(outer);
        let msg = w.finish().unwrap();
        assert_eq!((u16_at(msg, 16), u16_at(msg, 18)), (4 + 8 + 4 + 12, 18));
        assert_eq!((u16_at(msg, 28), u16_at(msg, 30)), (16, 2));
    }

    #[test]
    fn overflow_is_reported_not_panicked() {
        let mut w = MsgWriter::<24>::new();
        w.begin(0, 0, 0);
        w.attr(1, &[0; 16]);
        assert_eq!(w.finish(), Err(Overflow));
        w.begin(0, 0, 0);
        w.attr_str(1, "a\0b");
        assert_eq!(w.finish(), Err(Overflow));
        w.begin(0, 0, 0);
        w.attr_u32(1, 1);
        assert_eq!(w.finish().map(<[u8]>::len), Ok(24));
    }
}
