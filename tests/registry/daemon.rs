//! Debian's `docker-registry` (the distribution project's registry 2.x) on 127.0.0.1, with a
//! private config and storage in a temporary directory, run as the test's user; killed, reaped
//! and removed when dropped, whatever the test did.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = "/usr/bin/docker-registry";

pub struct Registry {
    child: Child,
    pub port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// A registry, or `None` (the test skips, or fails under ISOBOX_REQUIRE_PRIVILEGES=1) when
    /// the package is not installed.
    pub fn start() -> Option<Registry> {
        let installed = std::path::Path::new(BINARY).exists();
        if !super::common::require(installed, "docker-registry is not installed (apt-get install docker-registry)") {
            return None;
        }
        // A free port: bound and released, then taken by the registry (retried if another
        // process took it in between).
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            if let Some(registry) = Registry::on(port) {
                return Some(registry);
            }
        }
        panic!("docker-registry did not start on 127.0.0.1 (5 ports tried)");
    }

    fn on(port: u16) -> Option<Registry> {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.yml");
        let storage = dir.path().join("storage");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    \
                 rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                storage.display()
            ),
        )
        .unwrap();
        let log = dir.path().join("log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(BINARY)
            .args(["serve", config.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let mut registry = Registry { child, port, log, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if registry.child.try_wait().unwrap().is_some() {
                return None; // the port was taken: dropped, and the next one tried
            }
            if registry.answers() {
                return Some(registry);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Whether `GET /v2/` answers 200.
    fn answers(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else { return false };
        let request = format!("GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n", self.port);
        let mut answer = String::new();
        s.write_all(request.as_bytes()).is_ok()
            && s.read_to_string(&mut answer).is_ok()
            && answer.starts_with("HTTP/1.1 200")
    }

    /// `host:port/<repo>` for references.
    pub fn repo(&self, repo: &str) -> String {
        format!("127.0.0.1:{}/{repo}", self.port)
    }

    /// How many `GET`s of blobs the registry's access log shows so far.
    pub fn blob_gets(&self) -> usize {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log.lines().filter(|l| l.contains("\"GET /v2/") && l.contains("/blobs/sha256:")).count()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
