//! Pulling an image (**parent**): the manifest is fetched by tag or digest (an index's too:
//! the store's import picks this host's platform from it), and the registry is then read as
//! an OCI layout by the store's own import (`import::oci`), through [`RegistrySource`]: an
//! `index.json` naming the manifest, and `blobs/sha256/<hex>` fetched from the registry only
//! when the store lacks them. So a pulled image is staged, checked (every digest, size and
//! diff-id) and published exactly as an imported one, and nothing is published if any of it
//! is wrong.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use ureq::http::Method;

use crate::image::registry::error::{RegistryError, RegistryStep};
use crate::image::registry::http::{self, Body, Call, Client};
use crate::image::registry::options::{Pulled, RegistryOptions};
use crate::image::registry::reference::Reference;
use crate::image::store::digest::Digest;
use crate::image::store::error::StoreError;
use crate::image::store::json::{self, MAX_JSON};
use crate::image::store::layout::Layout;
use crate::image::store::source::Source;
use crate::image::store::{import, media, ImageStore};

/// What the manifest request accepts: OCI's manifest and index, Docker's schema 2 and list.
pub(crate) const ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// Pulls `reference` into `store`, naming it `reference` there.
pub(crate) fn pull(store: &ImageStore, reference: &str, options: &RegistryOptions) -> Result<Pulled, RegistryError> {
    let parsed = Reference::parse(reference)?;
    let client = Client::new(&parsed, options);
    let (bytes, media_type) = fetch_manifest(&client, &parsed.manifest_ref(), parsed.digest.as_ref())?;
    let digest = Digest::of(&bytes);
    let descriptor = json::Descriptor { media_type, digest: digest.clone(), size: bytes.len() as u64 };
    let mut entry = descriptor.to_json();
    entry["annotations"] = serde_json::json!({ media::REF_NAME: reference });
    let index = serde_json::json!({ "schemaVersion": 2, "manifests": [entry] });
    let mut children = HashSet::new();
    if media::is_index(&descriptor.media_type) {
        let v = json::parse(&bytes, &descriptor.path())?;
        for m in json::array(&v, "manifests", &descriptor.path(), "an index without a `manifests` array")? {
            children.insert(json::descriptor(m, &descriptor.path())?.digest);
        }
    }
    let source = RegistrySource {
        client: &client,
        layout: &store.layout,
        place: PathBuf::from(client.url("")),
        index: serde_json::to_vec(&index).unwrap_or_default(),
        manifests: RefCell::new(HashMap::from([(digest, bytes)])),
        children,
        failure: RefCell::new(None),
        counts: Cell::new(Counts { manifests: 1, ..Counts::default() }),
    };
    let imported = import::oci(store, &source, Some(reference));
    if let Some(failure) = source.failure.take() {
        return Err(failure);
    }
    let imported = imported?;
    let counts = source.counts.get();
    Ok(Pulled {
        image: imported.image,
        report: imported.report,
        blobs_fetched: counts.blobs,
        bytes_fetched: counts.bytes,
        manifests_fetched: counts.manifests,
    })
}

/// The manifest `name` (a tag or digest) and its media type, checked against `expected` and
/// against the digest the registry announces.
fn fetch_manifest(client: &Client, name: &str, expected: Option<&Digest>) -> Result<(Vec<u8>, String), RegistryError> {
    let url = client.url(&format!("manifests/{name}"));
    let step = RegistryStep::FetchManifest;
    let get = Method::GET;
    let call = Call { step, method: &get, url: &url, headers: &[("accept", ACCEPT)], body: Body::Empty };
    let mut response = client.send(call)?;
    if response.status() != 200 {
        return Err(http::status_error(step, &url, &mut response));
    }
    let announced = http::header(&response, "docker-content-digest").and_then(Digest::parse);
    let content_type = http::header(&response, "content-type").map(|t| t.split(';').next().unwrap_or("").trim());
    let content_type = content_type.filter(|t| media::is_manifest(t) || media::is_index(t)).map(str::to_owned);
    let bytes = http::read_limited(step, &url, &mut response, MAX_JSON)?;
    let actual = Digest::of(&bytes);
    for expected in expected.into_iter().chain(announced.as_ref()) {
        if *expected != actual {
            return Err(RegistryError::ManifestDigest { url, expected: expected.clone(), actual });
        }
    }
    // Without a manifest type in Content-Type, the document's own `mediaType` says.
    let media_type = match content_type {
        Some(t) => t,
        None => {
            let v = json::parse(&bytes, &url)?;
            v.get("mediaType").and_then(serde_json::Value::as_str).unwrap_or(media::OCI_MANIFEST).to_owned()
        }
    };
    Ok((bytes, media_type))
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    blobs: u64,
    bytes: u64,
    manifests: u64,
}

/// The registry's repository as an OCI layout, for the store's import. Its errors are
/// `StoreError::Missing`s for the import, the registry's own error kept in `failure`.
struct RegistrySource<'a> {
    client: &'a Client,
    layout: &'a Layout,
    place: PathBuf,
    index: Vec<u8>,
    /// Manifests fetched, by digest.
    manifests: RefCell<HashMap<Digest, Vec<u8>>>,
    /// The manifests an index names: fetched from `manifests/`, not `blobs/`.
    children: HashSet<Digest>,
    failure: RefCell<Option<RegistryError>>,
    counts: Cell<Counts>,
}

impl RegistrySource<'_> {
    fn fail(&self, entry: &str, e: RegistryError) -> StoreError {
        self.failure.borrow_mut().get_or_insert(e);
        StoreError::Missing { entry: entry.to_owned(), place: self.place.clone() }
    }

    fn count(&self, f: impl FnOnce(&mut Counts)) {
        let mut counts = self.counts.get();
        f(&mut counts);
        self.counts.set(counts);
    }

    /// The blob `digest`: the store's copy if it has one (a config of an image pulled
    /// before; checked again by the import), else the registry's body.
    fn blob(&self, entry: &str, digest: &Digest) -> Result<Box<dyn Read + '_>, StoreError> {
        let stored = self.layout.blob(digest.hex());
        if let Ok(file) = std::fs::File::open(&stored) {
            return Ok(Box::new(io::BufReader::new(file)));
        }
        let url = self.client.url(&format!("blobs/{digest}"));
        let step = RegistryStep::FetchBlob;
        let get = Method::GET;
        let call = Call { step, method: &get, url: &url, headers: &[], body: Body::Empty };
        let mut response = self.client.send(call).map_err(|e| self.fail(entry, e))?;
        if response.status() != 200 {
            return Err(self.fail(entry, http::status_error(step, &url, &mut response)));
        }
        self.count(|c| c.blobs += 1);
        let body = response.into_body().into_reader();
        Ok(Box::new(Counting { inner: body, source: self, url }))
    }
}

impl Source for RegistrySource<'_> {
    fn open(&self, name: &str) -> Result<Box<dyn Read + '_>, StoreError> {
        if name == "index.json" {
            return Ok(Box::new(io::Cursor::new(self.index.clone())));
        }
        let missing = || StoreError::Missing { entry: name.to_owned(), place: self.place.clone() };
        let digest = name.strip_prefix("blobs/sha256/").and_then(Digest::from_hex).ok_or_else(missing)?;
        if let Some(bytes) = self.manifests.borrow().get(&digest) {
            return Ok(Box::new(io::Cursor::new(bytes.clone())));
        }
        if self.children.contains(&digest) {
            let (bytes, _) =
                fetch_manifest(self.client, &digest.to_string(), Some(&digest)).map_err(|e| self.fail(name, e))?;
            self.count(|c| c.manifests += 1);
            self.manifests.borrow_mut().insert(digest, bytes.clone());
            return Ok(Box::new(io::Cursor::new(bytes)));
        }
        self.blob(name, &digest)
    }

    fn place(&self) -> &Path {
        &self.place
    }
}

/// A blob's body, counted; a read error is kept as the registry's.
struct Counting<'a, R> {
    inner: R,
    source: &'a RegistrySource<'a>,
    url: String,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.source.count(|c| c.bytes += n as u64);
                Ok(n)
            }
            Err(e) => {
                let kept = io::Error::new(e.kind(), e.to_string());
                let failure = http::http_error(RegistryStep::FetchBlob, &self.url, ureq::Error::Io(e));
                self.source.failure.borrow_mut().get_or_insert(failure);
                Err(kept)
            }
        }
    }
}
