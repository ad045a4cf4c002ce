//! The network around a registry: the environment's proxy is not used for a loopback registry
//! (a child process of this test binary runs with `HTTP_PROXY` at a closed port, the
//! environment being the process's), and a registry that stops reading an upload fails the
//! push after the timeout instead of hanging it.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command as Process;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{blobs_of, fake, images, oci, store_with, Fake, ImageStore, RegistryError, RegistryOptions, RegistryStep};

const CHILD: &str = "ISOBOX_TEST_PROXY_CHILD";
const CLOSED_PROXY: &str = "http://127.0.0.1:1";

#[test]
fn rootless_a_loopback_registry_is_reached_directly_whatever_the_proxy() {
    if std::env::var_os(CHILD).is_some() {
        return in_a_proxied_environment();
    }
    let name = "network::rootless_a_loopback_registry_is_reached_directly_whatever_the_proxy";
    let mut child = Process::new(std::env::current_exe().unwrap());
    child.args([name, "--exact", "--nocapture", "--test-threads=1"]).env(CHILD, "1");
    for var in ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
        child.env(var, CLOSED_PROXY);
    }
    let out = child.env_remove("NO_PROXY").env_remove("no_proxy").output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the proxied child failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "the child ran no test:\n{stdout}");
}

/// In the child: a pull from a fake registry on 127.0.0.1 works; told to use the
/// environment's proxy, it fails (nothing listens there).
fn in_a_proxied_environment() {
    assert_eq!(std::env::var("HTTP_PROXY").as_deref(), Ok(CLOSED_PROXY));
    let (one, _) = images(b"not busybox");
    let server = Fake::start(fake::image_server("test/app", "one", one.manifest_bytes.clone(), blobs_of(&one)));
    let work = tempfile::tempdir().unwrap();
    let reference = format!("{}/test/app:one", server.base());
    let store = ImageStore::open(work.path().join("direct")).unwrap();
    let pulled = store.pull(&reference, &RegistryOptions::new()).unwrap();
    assert_eq!(pulled.image.manifest_digest().to_string(), one.manifest_digest());
    let proxied = ImageStore::open(work.path().join("proxied")).unwrap();
    let failed = proxied.pull(&reference, &RegistryOptions::new().proxy_from_env(true));
    assert!(matches!(failed, Err(RegistryError::Http { .. })), "{failed:?}");
    assert_eq!(server.requests().len(), 4, "the proxied pull never reached the registry");
}

/// A registry on 127.0.0.1 that has every blob but `missing`, starts its upload, and then
/// never reads the upload's body (holding the connection for a minute).
fn stalling_registry(missing: String) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let missing = missing.clone();
            std::thread::spawn(move || {
                let stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut out = stream;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut head = String::new();
                    while reader.read_line(&mut head).unwrap_or(0) > 2 {}
                    let answer = match line.split_whitespace().next() {
                        Some("HEAD") if line.contains(&missing) => "404 X\r\ncontent-length: 0",
                        Some("HEAD") => "200 X\r\ncontent-length: 0",
                        Some("POST") => "202 X\r\nlocation: /v2/test/app/blobs/uploads/1\r\ncontent-length: 0",
                        _ => {
                            std::thread::sleep(Duration::from_secs(60));
                            return;
                        }
                    };
                    if out.write_all(format!("HTTP/1.1 {answer}\r\n\r\n").as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

#[test]
fn rootless_a_registry_that_stops_reading_an_upload_fails_the_push_after_the_timeout() {
    // 24 MiB uncompressed: more than the socket buffers of both ends take.
    let big = vec![0u8; 24 << 20];
    let layer = oci::Layer::new(oci::layer(&[("big", &big[..])]), oci::Comp::Plain);
    let missing = oci::digest(&layer.blob);
    let img = oci::Img::new(vec![layer], &["/bin/sh"]);
    let work = tempfile::tempdir().unwrap();
    let store = store_with(work.path(), &[(&img, "big")]);
    let remote = format!("127.0.0.1:{}/test/app:big", stalling_registry(missing));
    let (done, result) = mpsc::channel();
    let start = Instant::now();
    std::thread::spawn(move || {
        let pushed = store.push("big", &remote, &RegistryOptions::new().timeout(Duration::from_secs(1)));
        let _ = done.send(pushed);
    });
    let pushed = result.recv_timeout(Duration::from_secs(30)).expect("the push hung on the stalled upload");
    assert!(
        matches!(pushed, Err(RegistryError::Http { step: RegistryStep::UploadBlob, .. })),
        "{pushed:?} after {:?}",
        start.elapsed()
    );
}
