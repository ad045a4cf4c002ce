//! Pushing an image (**parent**): for each blob of the image (config and layers), `HEAD` it
//! in the repository, and upload the ones the registry lacks in one piece (`POST
//! /blobs/uploads/`, then `PUT <location>?digest=`); then `PUT` the manifest under the tag.
//! An index is pushed with each of its manifests first (by digest). Every document is read
//! from the store and checked against its digest before it is sent; layer blobs are sent as
//! the store has them (their digests were checked when they came in).

use serde_json::Value;
use ureq::http::Method;

use crate::image::registry::error::{RegistryError, RegistryStep};
use crate::image::registry::http::{self, Body, Call, Client};
use crate::image::registry::options::{Pushed, RegistryOptions};
use crate::image::registry::reference::Reference;
use crate::image::store::digest::Digest;
use crate::image::store::error::{io_at, StoreError};
use crate::image::store::json::{self, Descriptor};
use crate::image::store::layout::Layout;
use crate::image::store::source::{DirSource, Source};
use crate::image::store::{fsutil, index, media, ImageStore};

/// Pushes the store's image `local` (a name or manifest digest) as `remote`.
pub(crate) fn push(
    store: &ImageStore,
    local: &str,
    remote: &str,
    options: &RegistryOptions,
) -> Result<Pushed, RegistryError> {
    let target = Reference::parse(remote)?;
    // Shared, as an import: gc waits, and no blob of the image goes away meanwhile.
    let _lock = fsutil::lock(&store.layout.store_lock(), false)?;
    let entries = index::entries(&store.layout)?;
    let found = entries.iter().find(|e| e.reference.as_deref() == Some(local));
    let found = found.or_else(|| entries.iter().find(|e| e.manifest.to_string() == local));
    let no_such = || StoreError::NoSuchImage { reference: local.to_owned(), place: store.layout.root.clone() };
    let found = found.ok_or_else(no_such)?;
    if target.digest.as_ref().is_some_and(|d| *d != found.manifest) {
        let (reference, what) = (remote.to_owned(), "a digest that is not the image's manifest digest");
        return Err(RegistryError::Reference { reference, what });
    }
    let client = Client::new(&target, options);
    let mut pusher = Pusher {
        client: &client,
        layout: &store.layout,
        report: Pushed {
            manifest: found.manifest.clone(),
            blobs_uploaded: 0,
            blobs_present: 0,
            bytes_uploaded: 0,
            manifests_uploaded: 0,
        },
    };
    let top = Descriptor { media_type: found.media_type.clone(), digest: found.manifest.clone(), size: 0 };
    let bytes = pusher.document(&top.digest)?;
    if media::is_index(&top.media_type) {
        let v = json::parse(&bytes, &top.path())?;
        for m in json::array(&v, "manifests", &top.path(), "an index without a `manifests` array")? {
            let child = json::descriptor(m, &top.path())?;
            let child_bytes = pusher.document(&child.digest)?;
            pusher.manifest(&child, &child_bytes, &child.digest.to_string())?;
        }
    } else {
        pusher.manifest(&top, &bytes, "")?;
    }
    pusher.put_manifest(&top.media_type, &bytes, &target.manifest_ref())?;
    Ok(pusher.report)
}

struct Pusher<'a> {
    client: &'a Client,
    layout: &'a Layout,
    report: Pushed,
}

impl Pusher<'_> {
    /// The store's JSON blob `digest`, checked.
    fn document(&self, digest: &Digest) -> Result<Vec<u8>, RegistryError> {
        let entry = format!("blobs/sha256/{}", digest.hex());
        let bytes = DirSource { root: self.layout.root.clone() }.read_small(&entry)?;
        let actual = Digest::of(&bytes);
        if actual != *digest {
            return Err(StoreError::DigestMismatch { entry, expected: digest.clone(), actual }.into());
        }
        Ok(bytes)
    }

    /// Uploads the blobs of the manifest `d` (its `bytes`), then, if `tag` is not empty, the
    /// manifest under it.
    fn manifest(&mut self, d: &Descriptor, bytes: &[u8], tag: &str) -> Result<(), RegistryError> {
        if !media::is_manifest(&d.media_type) {
            let media_type = d.media_type.clone();
            return Err(StoreError::MediaType { entry: d.path(), media_type, needs_zstd: false }.into());
        }
        let v: Value = json::parse(bytes, &d.path())?;
        let parsed = json::manifest(&v, &d.path())?;
        for blob in std::iter::once(&parsed.config).chain(&parsed.layers) {
            self.blob(blob)?;
        }
        if !tag.is_empty() {
            self.put_manifest(&d.media_type, bytes, tag)?;
        }
        Ok(())
    }

    /// Uploads the blob `d` unless the repository has it.
    fn blob(&mut self, d: &Descriptor) -> Result<(), RegistryError> {
        let path = self.layout.blob(d.digest.hex());
        if !path.exists() {
            return Err(StoreError::Missing { entry: d.path(), place: self.layout.root.clone() }.into());
        }
        let url = self.client.url(&format!("blobs/{}", d.digest));
        let (head, post, put) = (Method::HEAD, Method::POST, Method::PUT);
        let step = RegistryStep::CheckBlob;
        let mut response =
            self.client.send(Call { step, method: &head, url: &url, headers: &[], body: Body::Empty })?;
        match response.status().as_u16() {
            200 => {
                self.report.blobs_present += 1;
                return Ok(());
            }
            404 => {}
            _ => return Err(http::status_error(step, &url, &mut response)),
        }
        let step = RegistryStep::StartUpload;
        let url = self.client.url("blobs/uploads/");
        let call = Call { step, method: &post, url: &url, headers: &[("content-length", "0")], body: Body::Empty };
        let mut response = self.client.send(call)?;
        if response.status() != 202 {
            return Err(http::status_error(step, &url, &mut response));
        }
        let no_location = RegistryError::Protocol { step, url: url.clone(), what: "an upload answer without Location" };
        let location = http::header(&response, "location").ok_or(no_location)?;
        let mut upload = self.client.resolve(location);
        upload.push(if upload.contains('?') { '&' } else { '?' });
        upload.push_str(&format!("digest={}", d.digest));
        let step = RegistryStep::UploadBlob;
        let length = std::fs::metadata(&path).map_err(io_at("reading", &path))?.len();
        let length_text = length.to_string();
        let headers = [("content-type", "application/octet-stream"), ("content-length", length_text.as_str())];
        let call = Call { step, method: &put, url: &upload, headers: &headers, body: Body::File(&path) };
        let mut response = self.client.send(call)?;
        if response.status() != 201 {
            return Err(http::status_error(step, &upload, &mut response));
        }
        self.report.blobs_uploaded += 1;
        self.report.bytes_uploaded += length;
        Ok(())
    }

    /// `PUT`s the manifest `bytes` of type `media_type` as `name` (a tag or its digest).
    fn put_manifest(&mut self, media_type: &str, bytes: &[u8], name: &str) -> Result<(), RegistryError> {
        let url = self.client.url(&format!("manifests/{name}"));
        let step = RegistryStep::PutManifest;
        let put = Method::PUT;
        let headers = [("content-type", media_type)];
        let mut response =
            self.client.send(Call { step, method: &put, url: &url, headers: &headers, body: Body::Bytes(bytes) })?;
        if response.status() != 201 {
            return Err(http::status_error(step, &url, &mut response));
        }
        let actual = Digest::of(bytes);
        if let Some(announced) = http::header(&response, "docker-content-digest").and_then(Digest::parse) {
            if announced != actual {
                return Err(RegistryError::ManifestDigest { url, expected: actual, actual: announced });
            }
        }
        self.report.manifests_uploaded += 1;
        Ok(())
    }
}
