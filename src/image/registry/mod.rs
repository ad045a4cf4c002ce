//! Pulling images from and pushing them to a registry (**parent**, feature `registry`): the
//! distribution API (v2) over HTTP(S), with ureq as the client.
//!
//! - [`reference`]: `host/name:tag@digest`, read as Docker reads it;
//! - [`http`]: the requests, and the 401 answers (`Bearer` tokens, `Basic` credentials,
//!   [`auth`]);
//! - [`pull`]: the manifest fetched, then the registry read by the store's own import as an
//!   OCI layout whose blobs are fetched only when the store lacks them;
//! - [`push`]: `HEAD` each blob, upload the missing ones in one piece, `PUT` the manifest.

pub(crate) mod auth;
pub(crate) mod error;
pub(crate) mod http;
pub(crate) mod options;
pub(crate) mod pull;
pub(crate) mod push;
pub(crate) mod reference;

use crate::image::registry::error::RegistryError;
use crate::image::registry::options::{Pulled, Pushed, RegistryOptions};
use crate::image::store::ImageStore;

impl ImageStore {
    /// Pulls the image `reference` (`[host[:port]/]name[:tag][@sha256:…]`; no host is Docker
    /// Hub, no tag `latest`) into the store, named `reference` there. Only the blobs the
    /// store lacks are fetched; every blob's digest and size and every layer's diff-id are
    /// checked, and nothing is published unless all of the image is in, as with an import.
    /// An index gives this host's platform's image.
    pub fn pull(&self, reference: &str, options: &RegistryOptions) -> Result<Pulled, RegistryError> {
        pull::pull(self, reference, options)
    }

    /// Pushes the store's image `image` (its name or manifest digest) to the registry as
    /// `remote` (`host[:port]/name:tag`): the blobs the repository lacks, then the manifest
    /// (an index: each of its manifests, then the index).
    pub fn push(&self, image: &str, remote: &str, options: &RegistryOptions) -> Result<Pushed, RegistryError> {
        push::push(self, image, remote, options)
    }
}
