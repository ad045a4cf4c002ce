//! Image references (**parent**): `[host[:port]/]repository[:tag][@sha256:…]`, read as Docker
//! reads them. The first component is a registry host if it has a `.` or a `:` or is
//! `localhost`; otherwise the image is Docker Hub's (`registry-1.docker.io`), and a
//! one-component repository is in `library/`. The tag defaults to `latest`.

use crate::image::registry::error::RegistryError;
use crate::image::store::digest::Digest;

/// Where Docker Hub's API is (the `docker.io` of references).
const DOCKER_HUB: &str = "registry-1.docker.io";

/// A parsed reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    /// `host` or `host:port`, as URLs take it.
    pub(crate) host: String,
    /// `name/space/repo`.
    pub(crate) repository: String,
    /// The tag, when the reference has no digest or has both.
    pub(crate) tag: Option<String>,
    pub(crate) digest: Option<Digest>,
}

impl Reference {
    /// Parses `text`.
    pub(crate) fn parse(text: &str) -> Result<Reference, RegistryError> {
        let bad = |what| RegistryError::Reference { reference: text.to_owned(), what };
        let (rest, digest) = match text.split_once('@') {
            Some((rest, d)) => (rest, Some(Digest::parse(d).ok_or_else(|| bad("a digest that is not sha256:<hex>"))?)),
            None => (text, None),
        };
        let (host, path) = match rest.split_once('/') {
            Some((first, path)) if first.contains(['.', ':']) || first == "localhost" => (first.to_owned(), path),
            _ => (DOCKER_HUB.to_owned(), rest),
        };
        if host.is_empty() || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b)) {
            return Err(bad("a registry host with characters a host name cannot have"));
        }
        let last_slash = path.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match path[last_slash..].rfind(':') {
            Some(i) => (&path[..last_slash + i], Some(path[last_slash + i + 1..].to_owned())),
            None => (path, None),
        };
        if !repository.split('/').all(component_ok) {
            return Err(bad("a repository name that is not lowercase components of [a-z0-9._-]"));
        }
        if tag.as_deref().is_some_and(|t| !tag_ok(t)) {
            return Err(bad("a tag that is not [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"));
        }
        let repository = match host == DOCKER_HUB && !repository.contains('/') {
            true => format!("library/{repository}"),
            false => repository.to_owned(),
        };
        let tag = match (tag, &digest) {
            (None, None) => Some("latest".to_owned()),
            (tag, _) => tag,
        };
        Ok(Reference { host, repository, tag, digest })
    }

    /// What the manifest is asked for by: the digest if there is one, else the tag.
    pub(crate) fn manifest_ref(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_owned(),
        }
    }

    /// Whether the host is this machine (`localhost`, 127.0.0.0/8, `::1`), which is spoken
    /// to in plain HTTP unless told otherwise, as Docker does.
    pub(crate) fn is_loopback(&self) -> bool {
        let name = match self.host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => self.host.split(':').next().unwrap_or(""),
        };
        name == "localhost" || name == "::1" || name.parse::<std::net::Ipv4Addr>().is_ok_and(|a| a.is_loopback())
    }
}

/// A repository path component: `[a-z0-9]` runs joined by `.`, `_`, `__` or dashes.
fn component_ok(c: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = c.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(&f), Some(&l)) => alnum(f) && alnum(l) && bytes.iter().all(|&b| alnum(b) || b"._-".contains(&b)),
        _ => false,
    }
}

fn tag_ok(t: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = t.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && word(bytes[0])
        && bytes.iter().all(|&b| word(b) || b == b'.' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> (String, String, Option<String>, bool) {
        let r = Reference::parse(text).unwrap();
        (r.host.clone(), r.repository.clone(), r.tag.clone(), r.digest.is_some())
    }

    #[test]
    fn reads_references_as_docker_does() {
        let hub = DOCKER_HUB.to_owned();
        assert_eq!(parts("busybox"), (hub.clone(), "library/busybox".into(), Some("latest".into()), false));
        assert_eq!(parts("me/app:1.2"), (hub, "me/app".into(), Some("1.2".into()), false));
        let local = parts("127.0.0.1:5000/test/bb:v1");
        assert_eq!(local, ("127.0.0.1:5000".into(), "test/bb".into(), Some("v1".into()), false));
        let d = Digest::of(b"m");
        let pinned = Reference::parse(&format!("localhost/a/b@{d}")).unwrap();
        assert_eq!((pinned.tag.as_deref(), pinned.manifest_ref()), (None, d.to_string()));
        assert!(pinned.is_loopback());
        assert!(Reference::parse("[::1]:5000/x").unwrap().is_loopback());
        assert!(!Reference::parse("quay.io/x").unwrap().is_loopback());
        let both = Reference::parse(&format!("reg.example:443/x:t@{d}")).unwrap();
        assert_eq!((both.tag.as_deref(), both.manifest_ref()), (Some("t"), d.to_string()));
    }

    #[test]
    fn refuses_malformed_references() {
        for bad in ["", "Upper/case", "a//b", "x:", "x:-tag", "x@sha256:00", "host.io/", "bad host/x", "a/b/"] {
            assert!(matches!(Reference::parse(bad), Err(RegistryError::Reference { .. })), "{bad:?}");
        }
    }
}
