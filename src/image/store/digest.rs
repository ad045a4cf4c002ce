//! Content digests (**parent**): sha256 only, as `sha256:<64 hex>`, and a reader that hashes
//! and counts what passes through it.

use std::fmt;
use std::io::{self, Read};

use sha2::{Digest as _, Sha256};

/// A sha256 content digest (`sha256:` and 64 lowercase hex digits), as OCI descriptors write it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// Parses `sha256:<64 lowercase hex>` (`None` for anything else).
    #[must_use]
    pub fn parse(text: &str) -> Option<Digest> {
        text.strip_prefix("sha256:").and_then(Digest::from_hex)
    }

    /// The digest whose hex part is `hex`, if it is 64 lowercase hex digits.
    #[must_use]
    pub fn from_hex(hex: &str) -> Option<Digest> {
        let ok = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| Digest { hex: hex.to_owned() })
    }

    /// The digest of `bytes`.
    #[must_use]
    pub fn of(bytes: &[u8]) -> Digest {
        Digest::from_hasher(Sha256::new_with_prefix(bytes))
    }

    /// The 64 hex digits (a blob's file name under `blobs/sha256/`).
    #[must_use]
    pub fn hex(&self) -> &str {
        &self.hex
    }

    fn from_hasher(hasher: Sha256) -> Digest {
        use std::fmt::Write;
        let mut hex = String::with_capacity(64);
        for byte in hasher.finalize() {
            let _ = write!(hex, "{byte:02x}");
        }
        Digest { hex }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A reader that hashes and counts the bytes read through it.
pub(crate) struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    len: u64,
}

impl<R: Read> Hashing<R> {
    pub(crate) fn new(inner: R) -> Self {
        Hashing { inner, hasher: Sha256::new(), len: 0 }
    }

    /// The reader it reads from.
    pub(crate) fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Reads the rest to its end (an archive's padding after its end block counts too).
    pub(crate) fn drain(&mut self) -> io::Result<()> {
        io::copy(self, &mut io::sink()).map(drop)
    }

    /// The digest and length of what was read.
    pub(crate) fn finish(self) -> (Digest, u64) {
        (Digest::from_hasher(self.hasher), self.len)
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let d = Digest::of(b"");
        assert_eq!(d.to_string(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(Digest::parse(&d.to_string()), Some(d));
        for bad in [
            "sha512:00",
            "sha256:E3B0",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "sha256:../x",
        ] {
            assert_eq!(Digest::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn hashing_reader_counts() {
        let mut r = Hashing::new(&b"abc"[..]);
        r.drain().unwrap();
        let (d, n) = r.finish();
        assert_eq!((d, n), (Digest::of(b"abc"), 3));
    }
}
