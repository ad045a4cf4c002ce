//! Pull and push (feature `registry`) against Debian's `docker-registry` on 127.0.0.1 (a
//! private config, storage and port; skipped with a printed reason when it is not installed,
//! a failure under ISOBOX_REQUIRE_PRIVILEGES=1): an image made by hand is pushed from one
//! store, pulled into an empty one and run; a second tag sharing its base layer fetches only
//! its own blobs (counted by the client and in the registry's access log). A fake server on
//! 127.0.0.1 serves what a real registry would not: a blob that is not its digest, a lying
//! manifest digest, and `Bearer` and `Basic` challenges; `network` the proxy and a stalled upload.
mod common;
#[path = "registry/daemon.rs"]
mod daemon;
#[path = "registry/fake.rs"]
mod fake;
#[path = "registry/network.rs"]
mod network;
#[path = "common/oci.rs"]
mod oci;

use std::collections::HashMap;

use daemon::Registry;
use fake::{Answer, Fake};
use isobox::{Image, ImageStore, OverlayRoot, RegistryError, RegistryOptions, RegistryStep, StoreError};
use oci::{Comp, Img, Layer};

fn busybox() -> Option<Vec<u8>> {
    let found = std::fs::read("/bin/busybox").ok();
    common::require(found.is_some(), "/bin/busybox is missing (apt-get install busybox-static)").then_some(found?)
}

/// A layer of busybox (executable, as `oci::layer` makes no file) and its shell, and the
/// directories a sandbox mounts on.
fn base_layer(busybox: &[u8]) -> Vec<u8> {
    let header = |kind, mode, size| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h
    };
    let mut tar = tar::Builder::new(Vec::new());
    for dir in ["bin", "etc", "proc", "dev", "tmp"] {
        tar.append_data(&mut header(tar::EntryType::Directory, 0o755, 0), dir, &[][..]).unwrap();
    }
    let mut h = header(tar::EntryType::Regular, 0o755, busybox.len() as u64);
    tar.append_data(&mut h, "bin/busybox", busybox).unwrap();
    tar.append_link(&mut header(tar::EntryType::Symlink, 0o777, 0), "bin/sh", "busybox").unwrap();
    tar.into_inner().unwrap()
}

/// Two images over one busybox base layer: `one` and `two` differ in their top layer.
fn images(busybox: &[u8]) -> (Img, Img) {
    let base = base_layer(busybox);
    let base = Layer::new(base, Comp::Gzip);
    let top = |text: &[u8]| Layer::new(oci::layer(&[("etc/", b""), ("etc/motd", text)]), Comp::Gzip);
    let one = Img::new(vec![base.clone(), top(b"one\n")], &["/bin/sh"]);
    let two = Img::new(vec![base, top(b"two\n")], &["/bin/sh", "-c", "cat /etc/motd"]);
    (one, two)
}

/// A store holding `images` under their names, imported from an OCI layout.
fn store_with(dir: &std::path::Path, images: &[(&Img, &str)]) -> ImageStore {
    let layout = dir.join("layout");
    oci::write_dir(&layout, &oci::layout_files(images));
    let store = ImageStore::open(dir.join("store")).unwrap();
    for (_, name) in images {
        store.import_oci_dir(&layout, Some(name)).unwrap();
    }
    store
}

/// What `/etc/motd` says in a sandbox over the image's layers.
fn motd(image: &Image) -> String {
    let sandbox = common::sandbox(|b| {
        b.overlay_root(OverlayRoot::new(image.layer_dirs()));
    });
    common::sh(&sandbox, "busybox cat /etc/motd && busybox echo ran")
}

fn blob_bytes(img: &Img, layers: &[usize]) -> u64 {
    (img.config_bytes.len() + layers.iter().map(|&i| img.layers[i].blob.len()).sum::<usize>()) as u64
}

#[test]
fn rootless_push_pull_into_an_empty_store_and_run_then_a_second_tag_fetches_only_its_blobs() {
    let Some(bb) = busybox() else { return };
    if !common::require_userns() {
        return;
    }
    let Some(registry) = Registry::start() else { return };
    let work = tempfile::tempdir().unwrap();
    let (one, two) = images(&bb);
    let source = store_with(&work.path().join("a"), &[(&one, "one"), (&two, "two")]);
    let options = RegistryOptions::new();
    let (remote_one, remote_two) = (registry.repo("test/app:one"), registry.repo("test/app:two"));

    let pushed = source.push("one", &remote_one, &options).unwrap();
    assert_eq!(pushed.manifest.to_string(), one.manifest_digest());
    assert_eq!((pushed.blobs_uploaded, pushed.blobs_present, pushed.manifests_uploaded), (3, 0, 1));
    assert_eq!(pushed.bytes_uploaded, blob_bytes(&one, &[0, 1]));
    let again = source.push("one", &remote_one, &options).unwrap();
    assert_eq!((again.blobs_uploaded, again.blobs_present), (0, 3), "the registry has them all");

    let store = ImageStore::open(work.path().join("b")).unwrap();
    let gets = registry.blob_gets();
    let pulled = store.pull(&remote_one, &options).unwrap();
    assert_eq!((pulled.blobs_fetched, pulled.manifests_fetched), (3, 1));
    assert_eq!(pulled.bytes_fetched, blob_bytes(&one, &[0, 1]));
    assert_eq!(registry.blob_gets() - gets, 3, "the registry's log agrees");
    assert_eq!((pulled.report.blobs_written, pulled.report.layers_unpacked), (4, 2));
    assert_eq!(pulled.image.manifest_digest().to_string(), one.manifest_digest());
    assert_eq!(pulled.image.reference(), Some(&remote_one[..]));
    assert_eq!(store.image(&remote_one).unwrap().config().cmd, ["/bin/sh"]);
    assert_eq!(motd(&pulled.image), "one\nran\n");

    // The second tag shares the base layer: only its config and top layer are fetched.
    let pushed = source.push("two", &remote_two, &options).unwrap();
    assert_eq!((pushed.blobs_uploaded, pushed.blobs_present), (2, 1));
    let gets = registry.blob_gets();
    let second = store.pull(&remote_two, &options).unwrap();
    assert_eq!(second.blobs_fetched, 2);
    assert_eq!(second.bytes_fetched, blob_bytes(&two, &[1]));
    assert_eq!(registry.blob_gets() - gets, 2, "the registry's log agrees");
    assert_eq!((second.report.layers_unpacked, second.report.layers_present), (1, 1));
    assert_eq!(second.image.layer_dirs()[0], pulled.image.layer_dirs()[0], "one base layer in the store");
    assert_eq!(motd(&second.image), "two\nran\n");

    // By digest, with everything in the store: the manifest only.
    let gets = registry.blob_gets();
    let pinned = format!("{}@{}", registry.repo("test/app"), two.manifest_digest());
    let third = store.pull(&pinned, &options).unwrap();
    assert_eq!((third.blobs_fetched, third.manifests_fetched, third.report.blobs_written), (0, 1, 0));
    assert_eq!(registry.blob_gets(), gets);
    assert_eq!(store.image(&pinned).unwrap().manifest_digest().to_string(), two.manifest_digest());

    // A tag the registry does not have: its status and message, and nothing written.
    let empty = ImageStore::open(work.path().join("c")).unwrap();
    match empty.pull(&registry.repo("test/app:three"), &options) {
        Err(RegistryError::Status { step: RegistryStep::FetchManifest, status: 404, message, .. }) => {
            assert!(message.contains("MANIFEST_UNKNOWN"), "{message}");
        }
        other => panic!("pulled a missing tag: {other:?}"),
    }
    oci::assert_nothing_written(&empty);
}

/// A fake registry serving `img` as `test/app:one`, its blobs from `blobs`.
fn serve(img: &Img, blobs: HashMap<String, Vec<u8>>) -> Fake {
    Fake::start(fake::image_server("test/app", "one", img.manifest_bytes.clone(), blobs))
}

fn blobs_of(img: &Img) -> HashMap<String, Vec<u8>> {
    let mut blobs = HashMap::from([(oci::digest(&img.config_bytes), img.config_bytes.clone())]);
    blobs.extend(img.layers.iter().map(|l| (oci::digest(&l.blob), l.blob.clone())));
    blobs
}

#[test]
fn rootless_a_blob_or_manifest_that_is_not_its_digest_is_refused() {
    let (one, _) = images(b"not busybox");
    let work = tempfile::tempdir().unwrap();
    let options = RegistryOptions::new();
    // The top layer's bytes, changed (same length): the digest check refuses it.
    let mut blobs = blobs_of(&one);
    let top = blobs.get_mut(&oci::digest(&one.layers[1].blob)).unwrap();
    let last = top.len() - 1;
    top[last] ^= 1;
    let server = serve(&one, blobs);
    let store = ImageStore::open(work.path().join("s")).unwrap();
    match store.pull(&format!("{}/test/app:one", server.base()), &options) {
        Err(RegistryError::Store(StoreError::DigestMismatch { expected, .. })) => {
            assert_eq!(expected.to_string(), oci::digest(&one.layers[1].blob));
        }
        other => panic!("pulled a wrong blob: {other:?}"),
    }
    oci::assert_nothing_written(&store);
    // A manifest whose bytes are not the digest asked for.
    let lie = Fake::start(move |_| Answer::new(200, &one.manifest_bytes).header("content-type", "application/json"));
    let pinned = format!("{}/test/app@{}", lie.base(), oci::digest(b"another manifest"));
    assert!(matches!(store.pull(&pinned, &options), Err(RegistryError::ManifestDigest { .. })));
    oci::assert_nothing_written(&store);
}

#[test]
fn rootless_a_bearer_challenge_is_met_with_a_token_and_a_basic_one_with_the_credentials() {
    let (one, _) = images(b"not busybox");
    let work = tempfile::tempdir().unwrap();
    let image = fake::image_server("test/app", "one", one.manifest_bytes.clone(), blobs_of(&one));
    let basic = "Basic dTpw"; // u:p
    let server = Fake::start(move |r| {
        let auth = r.headers.get("authorization").map(String::as_str);
        if r.target.starts_with("/token?") {
            return match auth == Some(basic) {
                true => Answer::new(200, br#"{"token":"T1","expires_in":300}"#),
                false => Answer::new(401, b""),
            };
        }
        if auth != Some("Bearer T1") {
            let realm = format!("http://{}/token", r.headers["host"]);
            let challenge = format!(r#"Bearer realm="{realm}",service="fake",scope="repository:test/app:pull""#);
            return Answer::new(401, b"").header("www-authenticate", &challenge);
        }
        image(r)
    });
    let reference = format!("{}/test/app:one", server.base());
    let store = ImageStore::open(work.path().join("s")).unwrap();
    let refused = store.pull(&reference, &RegistryOptions::new());
    assert!(
        matches!(refused, Err(RegistryError::Unauthorized { step: RegistryStep::Token, had_credentials: false, .. })),
        "{refused:?}"
    );
    let pulled = store.pull(&reference, &RegistryOptions::new().basic_auth("u", "p")).unwrap();
    assert_eq!(pulled.image.manifest_digest().to_string(), one.manifest_digest());
    let requests = server.requests();
    let tokens: Vec<_> = requests.iter().filter(|r| r.target.starts_with("/token")).collect();
    assert_eq!(tokens.last().unwrap().target, "/token?service=fake&scope=repository:test/app:pull");
    // The pull with credentials: one challenge, one token, then the token on every request.
    let with = &requests[requests.iter().rposition(|r| r.target.contains("/manifests/")).unwrap() - 2..];
    assert_eq!(with.iter().filter(|r| r.target.starts_with("/token")).count(), 1);
    assert_eq!(with.iter().filter(|r| !r.headers.contains_key("authorization")).count(), 1, "{with:#?}");
    assert_eq!(with.iter().filter(|r| r.target.contains("/blobs/")).count(), 3);

    // Basic: the credentials themselves, after the challenge.
    let (one, _) = images(b"not busybox either");
    let image = fake::image_server("test/app", "one", one.manifest_bytes.clone(), blobs_of(&one));
    let server = Fake::start(move |r| match r.headers.get("authorization").map(String::as_str) == Some(basic) {
        true => image(r),
        false => Answer::new(401, b"").header("www-authenticate", r#"Basic realm="fake""#),
    });
    let reference = format!("{}/test/app:one", server.base());
    let wrong = store.pull(&reference, &RegistryOptions::new().basic_auth("u", "q"));
    assert!(matches!(wrong, Err(RegistryError::Unauthorized { had_credentials: true, .. })), "{wrong:?}");
    let pulled = store.pull(&reference, &RegistryOptions::new().basic_auth("u", "p")).unwrap();
    assert_eq!(pulled.image.manifest_digest().to_string(), one.manifest_digest());
}

#[test]
fn rootless_an_index_gives_this_hosts_image() {
    let (one, two) = images(b"not busybox");
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let entry = |img: &Img, arch: &str| {
        serde_json::json!({ "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": img.manifest_digest(),
            "size": img.manifest_bytes.len(), "platform": { "os": "linux", "architecture": arch } })
    };
    let index = serde_json::json!({ "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [entry(&two, "some-other-arch"), entry(&one, arch)] });
    let index = serde_json::to_vec(&index).unwrap();
    let manifests = HashMap::from([
        (oci::digest(&one.manifest_bytes), one.manifest_bytes.clone()),
        (oci::digest(&two.manifest_bytes), two.manifest_bytes.clone()),
    ]);
    let blobs = fake::image_server("test/app", "unused", Vec::new(), blobs_of(&one));
    let server = Fake::start(move |r| {
        let name = r.target.strip_prefix("/v2/test/app/manifests/");
        match name.map(|n| (n, manifests.get(n))) {
            Some(("multi", _)) => {
                Answer::new(200, &index).header("content-type", "application/vnd.oci.image.index.v1+json")
            }
            Some((_, Some(m))) => {
                Answer::new(200, m).header("content-type", "application/vnd.oci.image.manifest.v1+json")
            }
            _ => blobs(r),
        }
    });
    let work = tempfile::tempdir().unwrap();
    let store = ImageStore::open(work.path().join("s")).unwrap();
    let pulled = store.pull(&format!("{}/test/app:multi", server.base()), &RegistryOptions::new()).unwrap();
    assert_eq!(pulled.image.manifest_digest().to_string(), one.manifest_digest());
    assert_eq!((pulled.manifests_fetched, pulled.blobs_fetched), (2, 3));
    let asked: Vec<_> = server.requests().into_iter().filter(|r| r.target.contains("/manifests/")).collect();
    assert_eq!(asked.len(), 2, "the index, then this host's manifest only");
    assert!(asked[0].headers["accept"].contains("application/vnd.oci.image.index.v1+json"));
}
