//! The layer's blob (**parent**): the layer tar written through a hash of itself (the
//! diff-id), the compressor and a hash of the compressed bytes (the blob's digest) into a
//! temporary file of the store's `isobox/tmp/`, removed unless published.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::error::{BuildError, BLOB_BYTES};
use super::layer::write_layer_with;
use super::spec::{CommitOptions, LayerOptions};
use crate::image::store::digest::Digest;
use crate::image::store::error::io_at;
use crate::image::store::fsutil;
use crate::image::store::layout::Layout;
use crate::image::store::media::Compression;

/// A writer that hashes and counts what passes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter { inner, hasher: Sha256::new(), len: 0 }
    }

    fn finish(self) -> (W, Digest, u64) {
        use std::fmt::Write as _;
        let mut hex = String::with_capacity(64);
        for byte in self.hasher.finalize() {
            let _ = write!(hex, "{byte:02x}");
        }
        (self.inner, Digest::from_hex(&hex).expect("sha256 gives 64 lowercase hex digits"), self.len)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The compressor in front of the blob file.
enum Encoder<W: Write> {
    None(W),
    Gzip(flate2::write::GzEncoder<W>),
    #[cfg(feature = "zstd")]
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    fn new(out: W, compression: Compression) -> io::Result<Self> {
        Ok(match compression {
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(out, flate2::Compression::default())),
            #[cfg(feature = "zstd")]
            Compression::Zstd => Encoder::Zstd(zstd::stream::write::Encoder::new(out, 3)?),
            _ => Encoder::None(out),
        })
    }

    fn finish(self) -> io::Result<W> {
        match self {
            Encoder::None(w) => Ok(w),
            Encoder::Gzip(e) => e.finish(),
            #[cfg(feature = "zstd")]
            Encoder::Zstd(e) => e.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::None(w) => w.write(buf),
            Encoder::Gzip(e) => e.write(buf),
            #[cfg(feature = "zstd")]
            Encoder::Zstd(e) => e.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::None(w) => w.flush(),
            Encoder::Gzip(e) => e.flush(),
            #[cfg(feature = "zstd")]
            Encoder::Zstd(e) => e.flush(),
        }
    }
}

/// A file or tree of the store's `isobox/tmp/`, removed when dropped (a no-op once renamed).
pub(crate) struct Temp(pub(crate) PathBuf);

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = fsutil::remove_tree(&self.0);
    }
}

/// The written, synced, unpublished layer blob.
pub(crate) struct LayerBlob {
    pub(crate) file: Temp,
    pub(crate) digest: Digest,
    pub(crate) size: u64,
    pub(crate) diff_id: Digest,
    pub(crate) compression: Compression,
}

/// Writes `upper` as a layer blob in `layout`'s temporary directory, its tar as `layer` says
/// (its limits' `max_blob_bytes` checked once the blob is written).
pub(crate) fn write(
    layout: &Layout,
    upper: &Path,
    options: &CommitOptions,
    layer: &LayerOptions,
) -> Result<LayerBlob, BuildError> {
    let compression = options.compression.store();
    let temp = Temp(layout.tmp.join(fsutil::unique_name("build")));
    let file = File::options().write(true).create_new(true).open(&temp.0).map_err(io_at("creating", &temp.0))?;
    let written = |source| BuildError::Write { source };
    let compressed = HashingWriter::new(io::BufWriter::with_capacity(1 << 20, file));
    let mut plain = HashingWriter::new(Encoder::new(compressed, compression).map_err(written)?);
    write_layer_with(upper, &mut plain, layer)?;
    let (encoder, diff_id, _) = plain.finish();
    let (buffered, digest, size) = encoder.finish().map_err(written)?.finish();
    if let Some(limit) = layer.limits.max_blob_bytes.filter(|&m| size > m) {
        return Err(BuildError::Limit { path: PathBuf::new(), what: BLOB_BYTES, limit });
    }
    let file = buffered.into_inner().map_err(|e| written(e.into_error()))?;
    file.sync_all().map_err(io_at("syncing", &temp.0))?;
    Ok(LayerBlob { file: temp, digest, size, diff_id, compression })
}
