//! How large an import may be (**parent**): [`StoreLimits`], and the reader that holds an
//! uncompressed layer to its limit (a gzip bomb of a few KiB would otherwise fill the disk).

use std::io::{self, Read};

/// Bounds on what an import (or [`ImageStore::image`](crate::ImageStore::image), when it
/// unpacks) accepts; past one, it fails with [`StoreError::Limit`](crate::StoreError::Limit)
/// and writes nothing. Default: no limit, since a trusted image may be of any size; set them
/// when the images come from someone you do not trust (a registry's compressed layer of a few
/// KiB can hold terabytes of zeros, and a layer millions of empty files).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreLimits {
    /// The most bytes one blob (a layer as stored, compressed or not) may have.
    pub max_blob_bytes: Option<u64>,
    /// The most bytes one layer may have uncompressed (the tar stream: headers, contents and
    /// padding), the bound on what unpacking it writes.
    pub max_layer_bytes: Option<u64>,
    /// The most entries one layer may have (files, directories, links, whiteouts).
    pub max_layer_entries: Option<u64>,
}

impl StoreLimits {
    /// No limit (the default).
    #[must_use]
    pub const fn none() -> StoreLimits {
        StoreLimits { max_blob_bytes: None, max_layer_bytes: None, max_layer_entries: None }
    }

    /// These limits, with at most `bytes` per blob.
    #[must_use]
    pub const fn blob_bytes(mut self, bytes: u64) -> StoreLimits {
        self.max_blob_bytes = Some(bytes);
        self
    }

    /// These limits, with at most `bytes` per uncompressed layer.
    #[must_use]
    pub const fn layer_bytes(mut self, bytes: u64) -> StoreLimits {
        self.max_layer_bytes = Some(bytes);
        self
    }

    /// These limits, with at most `entries` per layer.
    #[must_use]
    pub const fn layer_entries(mut self, entries: u64) -> StoreLimits {
        self.max_layer_entries = Some(entries);
        self
    }
}

/// A reader that fails once more than `left` bytes would come through, and says so.
pub(crate) struct Bounded<R> {
    inner: R,
    left: Option<u64>,
    pub(crate) exceeded: bool,
}

impl<R: Read> Bounded<R> {
    pub(crate) fn new(inner: R, limit: Option<u64>) -> Self {
        Bounded { inner, left: limit, exceeded: false }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(left) = self.left else { return self.inner.read(buf) };
        // One byte more than is left, to see whether the stream goes on past the limit.
        let want = buf.len().min(usize::try_from(left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > left {
            self.exceeded = true;
            return Err(io::Error::other("past the store's limit"));
        }
        self.left = Some(left - n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounded_reader_passes_the_limit_and_fails_past_it() {
        let mut exact = Bounded::new(&[1u8; 10][..], Some(10));
        assert_eq!(io::copy(&mut exact, &mut io::sink()).unwrap(), 10);
        let mut over = Bounded::new(&[1u8; 11][..], Some(10));
        assert!(io::copy(&mut over, &mut io::sink()).is_err());
        assert!(over.exceeded && !exact.exceeded);
    }
}
