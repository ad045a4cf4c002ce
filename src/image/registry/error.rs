//! What pulling from or pushing to a registry can fail at (**parent**): each error names the
//! step and the URL, and the registry's status and message where it answered.

use std::fmt;

use crate::image::store::digest::Digest;
use crate::image::store::error::StoreError;

/// A request of a pull or push, for errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryStep {
    /// `GET /v2/<name>/manifests/<ref>`.
    FetchManifest,
    /// `GET /v2/<name>/blobs/<digest>`, or reading its body.
    FetchBlob,
    /// `HEAD /v2/<name>/blobs/<digest>` before an upload.
    CheckBlob,
    /// `POST /v2/<name>/blobs/uploads/`.
    StartUpload,
    /// `PUT <upload location>?digest=…`.
    UploadBlob,
    /// `PUT /v2/<name>/manifests/<ref>`.
    PutManifest,
    /// The token request a `Bearer` challenge asks for.
    Token,
}

impl fmt::Display for RegistryStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RegistryStep::FetchManifest => "fetching the manifest",
            RegistryStep::FetchBlob => "fetching a blob",
            RegistryStep::CheckBlob => "checking for a blob",
            RegistryStep::StartUpload => "starting an upload",
            RegistryStep::UploadBlob => "uploading a blob",
            RegistryStep::PutManifest => "uploading the manifest",
            RegistryStep::Token => "requesting a token",
        })
    }
}

/// A pull or push that failed. A failed pull publishes nothing in the store (as a failed
/// import); a failed push may leave blobs in the registry, but no manifest naming them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The image reference does not parse.
    #[error("image reference {reference:?}: {what}")]
    Reference {
        /// The reference as given.
        reference: String,
        /// What is wrong with it.
        what: &'static str,
    },
    /// The request could not be made or its answer not read (connection, TLS, protocol,
    /// timeout).
    #[error("{step}: {url}: {source}")]
    Http {
        /// The request.
        step: RegistryStep,
        /// Its URL.
        url: String,
        /// The HTTP client's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The registry answered with a status the step does not expect.
    #[error("{step}: {url}: HTTP {status}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Status {
        /// The request.
        step: RegistryStep,
        /// Its URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The registry's error codes and messages (distribution's `errors` array), if any.
        message: String,
    },
    /// The registry wants credentials (status 401) that were not given, or refused them.
    #[error("{step}: {url}: unauthorized ({challenge}){}", if *.had_credentials { ": the credentials were refused" } else { ": give credentials (RegistryOptions::basic_auth)" })]
    Unauthorized {
        /// The request.
        step: RegistryStep,
        /// Its URL.
        url: String,
        /// The `WWW-Authenticate` challenge, as sent.
        challenge: String,
        /// Whether credentials or a token were sent.
        had_credentials: bool,
    },
    /// The registry's answer is not what the API says it should be: a missing header, a
    /// token answer without a token, a plain-HTTP URL where HTTPS is required.
    #[error("{step}: {url}: {what}")]
    Protocol {
        /// The request.
        step: RegistryStep,
        /// Its URL.
        url: String,
        /// What is wrong.
        what: &'static str,
    },
    /// A manifest whose bytes do not hash to the digest it was asked for by, or that the
    /// registry gave for it (`Docker-Content-Digest`).
    #[error("{url}: the manifest's sha256 is {actual}, not {expected}")]
    ManifestDigest {
        /// The manifest's URL.
        url: String,
        /// The digest asked for or announced.
        expected: Digest,
        /// The digest of the bytes received.
        actual: Digest,
    },
    /// An answer larger than isobox reads for its kind (a manifest: 4 MiB).
    #[error("{step}: {url}: larger than {limit} bytes")]
    TooLarge {
        /// The request.
        step: RegistryStep,
        /// Its URL.
        url: String,
        /// The limit.
        limit: u64,
    },
    /// The store refused the image or failed: a blob whose digest or size is not its
    /// descriptor's, a diff-id that is not the config's, a layer that does not unpack, an
    /// unsupported media type, a missing image to push, a file system error.
    #[error(transparent)]
    Store(#[from] StoreError),
}
