//! The media types isobox reads and writes (**parent**), and how a layer is compressed.

use std::io::Read;

use crate::image::store::error::StoreError;

/// An OCI image manifest.
pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// An OCI image index (a list of manifests, e.g. one per platform).
pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// An OCI image config.
pub(crate) const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// The annotation that names an image in an `index.json` (as skopeo and umoci write it).
pub(crate) const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// The OCI layer media type for it.
    pub(crate) fn oci_media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }

    /// Guessed from a blob's first bytes (docker-archive layers have no media type).
    pub(crate) fn sniff(head: &[u8]) -> Compression {
        match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            _ => Compression::None,
        }
    }

    /// Refused here, before anything is written, when this build cannot decompress it.
    pub(crate) fn check_supported(self, entry: &str) -> Result<Self, StoreError> {
        if self == Compression::Zstd && !cfg!(feature = "zstd") {
            let media_type = self.oci_media_type().to_owned();
            return Err(StoreError::MediaType { entry: entry.to_owned(), media_type, needs_zstd: true });
        }
        Ok(self)
    }

    /// `blob` decompressed.
    pub(crate) fn reader<'a>(self, blob: impl Read + 'a) -> std::io::Result<Box<dyn Read + 'a>> {
        Ok(match self {
            Compression::None => Box::new(blob),
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(blob)),
            #[cfg(feature = "zstd")]
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(blob)?),
            #[cfg(not(feature = "zstd"))]
            Compression::Zstd => return Err(std::io::Error::from(std::io::ErrorKind::Unsupported)),
        })
    }
}

/// The compression of a layer of media type `media_type`; foreign (non-distributable) and
/// unknown types are refused, naming `entry`.
pub(crate) fn layer_compression(media_type: &str, entry: &str) -> Result<Compression, StoreError> {
    let compression = match media_type {
        "application/vnd.oci.image.layer.v1.tar" | "application/vnd.docker.image.rootfs.diff.tar" => Compression::None,
        "application/vnd.oci.image.layer.v1.tar+gzip" | "application/vnd.docker.image.rootfs.diff.tar.gzip" => {
            Compression::Gzip
        }
        "application/vnd.oci.image.layer.v1.tar+zstd" | "application/vnd.docker.image.rootfs.diff.tar.zstd" => {
            Compression::Zstd
        }
        _ => {
            let media_type = media_type.to_owned();
            return Err(StoreError::MediaType { entry: entry.to_owned(), media_type, needs_zstd: false });
        }
    };
    compression.check_supported(entry)
}

/// An image manifest (OCI's or Docker's schema 2).
pub(crate) fn is_manifest(media_type: &str) -> bool {
    media_type == OCI_MANIFEST || media_type == DOCKER_MANIFEST
}

/// An index of manifests (OCI's or Docker's manifest list).
pub(crate) fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_LIST
}

/// The host's architecture as OCI platforms name it (Go's GOARCH).
pub(crate) fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_types() {
        assert_eq!(layer_compression("application/vnd.oci.image.layer.v1.tar", "l").unwrap(), Compression::None);
        let docker = "application/vnd.docker.image.rootfs.diff.tar.gzip";
        assert_eq!(layer_compression(docker, "l").unwrap(), Compression::Gzip);
        for refused in [
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
            "text/plain",
        ] {
            let e = layer_compression(refused, "l").unwrap_err();
            assert!(matches!(e, StoreError::MediaType { needs_zstd: false, .. }), "{refused}: {e}");
        }
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(Compression::sniff(b"usr/"), Compression::None);
    }
}
