//! How to reach a registry (**parent**), and what a pull or push did.

use std::fmt;
use std::time::Duration;

use crate::image::store::digest::Digest;
use crate::image::store::image::{Image, ImportReport};

/// How to talk to a registry: plain HTTP or HTTPS, credentials, timeouts.
///
/// By default a loopback registry (`localhost`, `127.0.0.0/8`, `[::1]`) is spoken to in
/// plain HTTP, as Docker does, and every other one over HTTPS, its certificate checked
/// against Mozilla's roots. A registry that answers 401 with a `Bearer` challenge is asked
/// for a token at the challenge's realm (with the basic credentials, if given); one with a
/// `Basic` challenge gets the credentials themselves. A proxy of the environment
/// (`ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`, and `NO_PROXY`) is used for every registry but
/// a loopback one (see [`proxy_from_env`](Self::proxy_from_env)).
#[derive(Clone, Default)]
pub struct RegistryOptions {
    pub(crate) plain_http: Option<bool>,
    pub(crate) credentials: Option<(String, String)>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) proxy_from_env: Option<bool>,
}

impl RegistryOptions {
    /// The defaults.
    #[must_use]
    pub fn new() -> RegistryOptions {
        RegistryOptions::default()
    }

    /// Plain HTTP (`true`) or HTTPS (`false`) whatever the host; for a registry without TLS
    /// on another machine. Token realms follow the same choice.
    #[must_use]
    pub fn plain_http(mut self, plain: bool) -> RegistryOptions {
        self.plain_http = Some(plain);
        self
    }

    /// Credentials for the registry's `Basic` challenge, or for the token service of its
    /// `Bearer` one (Docker Hub's: a user name and an access token).
    #[must_use]
    pub fn basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> RegistryOptions {
        self.credentials = Some((user.into(), password.into()));
        self
    }

    /// How long to wait to connect, for each read of an answer and for each write of a
    /// request (default 60 s): a registry that stops reading an upload fails the push after
    /// that long. A large layer may take longer in all: only a stall counts.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> RegistryOptions {
        self.timeout = Some(timeout);
        self
    }

    /// Whether to go through the environment's proxy (`ALL_PROXY`, `HTTPS_PROXY` or
    /// `HTTP_PROXY`, hosts in `NO_PROXY` excepted). Default: yes, but for a loopback registry,
    /// which is always reached directly (a proxy would see its traffic, credentials included,
    /// in plain HTTP).
    #[must_use]
    pub fn proxy_from_env(mut self, use_it: bool) -> RegistryOptions {
        self.proxy_from_env = Some(use_it);
        self
    }
}

impl fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryOptions")
            .field("plain_http", &self.plain_http)
            .field("user", &self.credentials.as_ref().map(|(u, _)| u))
            .field("timeout", &self.timeout)
            .field("proxy_from_env", &self.proxy_from_env)
            .finish_non_exhaustive()
    }
}

/// A pulled image, what the store wrote and what was fetched.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Pulled {
    /// The image, as [`ImageStore::image`](crate::ImageStore::image) gives it, named in the
    /// store by the reference it was pulled by.
    pub image: Image,
    /// What the store wrote, and what it already had.
    pub report: ImportReport,
    /// Blobs fetched (`GET /v2/<name>/blobs/…`): those the store lacked.
    pub blobs_fetched: u64,
    /// The bytes of their bodies.
    pub bytes_fetched: u64,
    /// Manifests fetched (one, or an index and the host's manifest).
    pub manifests_fetched: u64,
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pushed {
    /// The digest of the manifest (or index) pushed.
    pub manifest: Digest,
    /// Blobs uploaded.
    pub blobs_uploaded: u64,
    /// Blobs the registry already had (not uploaded).
    pub blobs_present: u64,
    /// The bytes uploaded.
    pub bytes_uploaded: u64,
    /// Manifests uploaded (one, or an index's manifests and the index).
    pub manifests_uploaded: u64,
}
