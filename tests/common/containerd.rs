//! A private containerd (Debian's 1.6) for the tests: its own config, root, state and socket
//! in a temporary directory, in a mount namespace of its own (`unshare --mount --propagation
//! private`, so what it mounts never shows on the host and goes away with it), with the CRI
//! plugin and every snapshotter but one disabled. Dropping it kills and reaps it, unmounts
//! whatever is still mounted under its directory and removes the directory, whatever the test
//! did. The host's /run/containerd and /var/lib/containerd are never used.
//!
//! Include it with `#[path = "common/containerd.rs"] mod containerd;` beside `mod common;`.
//!
//! For issue 14 (containerd running tasks with isobox as its runtime), mind that containerd
//! 1.6 puts shim sockets in /run/containerd/s/ and `ctr run`'s FIFOs in /run/containerd/fifo/
//! whatever the config says, and that shims outlive a killed containerd: a guard that runs
//! tasks must kill them (`ctr tasks kill`, or their pids) before this one drops.
#![allow(dead_code)]

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const CONTAINERD: &str = "/usr/bin/containerd";
pub const CTR: &str = "/usr/bin/ctr";
/// The containerd namespace `ctr` calls use (never `default`, though the daemon is ours).
pub const NAMESPACE: &str = "isobox-test";

/// The snapshotters containerd 1.6 has; all but the chosen one are disabled (aufs would run
/// modprobe, btrfs, zfs and devmapper need their filesystems).
const SNAPSHOTTERS: &[&str] = &["aufs", "btrfs", "devmapper", "native", "overlayfs", "zfs"];

/// How to start one.
#[derive(Clone, Debug)]
pub struct Options {
    /// The only snapshotter enabled, and the one `ctr_snapshotter` names: `native` (copies,
    /// mounts only binds) or `overlayfs`.
    pub snapshotter: &'static str,
    /// TOML appended to the config (e.g. `[plugins."io.containerd.runtime.v1.linux"]` tables).
    pub extra_config: String,
}

impl Default for Options {
    fn default() -> Options {
        Options { snapshotter: "native", extra_config: String::new() }
    }
}

pub struct Containerd {
    child: Option<Child>,
    socket: PathBuf,
    options: Options,
    dir: tempfile::TempDir,
}

impl Containerd {
    /// One with the default options; see [`Containerd::start_with`].
    pub fn start() -> Option<Containerd> {
        Containerd::start_with(Options::default())
    }

    /// A running containerd whose socket answers, or `None` when the test should skip: not
    /// root (printed), or containerd, ctr or unshare missing (printed; a failure under
    /// ISOBOX_REQUIRE_PRIVILEGES=1). Panics with its log if it does not come up in 10 s.
    pub fn start_with(options: Options) -> Option<Containerd> {
        if !super::common::is_root() {
            eprintln!("skipped: containerd needs root");
            return None;
        }
        let missing = [CONTAINERD, CTR].into_iter().find(|b| !Path::new(b).is_file());
        let why = format!("{} is not installed (apt-get install containerd)", missing.unwrap_or(""));
        if !super::common::require(missing.is_none(), &why) || !super::common::require(have_unshare(), "no unshare") {
            return None;
        }
        // 0700: containerd's root and state are root's alone.
        let dir = tempfile::Builder::new().prefix("isobox-containerd-").tempdir().unwrap();
        let socket = dir.path().join("containerd.sock");
        let config = dir.path().join("config.toml");
        std::fs::write(&config, config_toml(dir.path(), &socket, &options)).unwrap();
        let log = std::fs::File::create(dir.path().join("log")).unwrap();
        let child = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "--", CONTAINERD, "--config"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut daemon = Containerd { child: Some(child), socket, options, dir };
        daemon.wait_for_socket(Duration::from_secs(60));
        Some(daemon)
    }

    fn wait_for_socket(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("containerd exited with {status} before serving:\n{}", self.log());
            }
            if UnixStream::connect(&self.socket).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "containerd did not serve {} in {timeout:?}:\n{}",
                self.socket.display(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its process id (containerd itself: `unshare` execs it).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The temporary directory everything of it is in (removed on drop).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The gRPC socket (`ctr -a`).
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Its `root` (content store, metadata, snapshots).
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// Its `state` directory.
    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// The one snapshotter enabled.
    pub fn snapshotter(&self) -> &'static str {
        self.options.snapshotter
    }

    /// The directory of the `native` snapshotter's committed snapshot `key` (a chain id for an
    /// unpacked image's layers): the source of the read-only bind mount `ctr snapshots view
    /// --mounts` gives for a new view `view` of it (containerd mounts nothing for this).
    pub fn native_view(&self, view: &str, key: &str) -> PathBuf {
        assert_eq!(self.options.snapshotter, "native");
        let out = self.ctr(&["snapshots", "--snapshotter", "native", "view", "--mounts", view, key]);
        // [{"Type": "bind", "Source": "<root>/io.containerd.snapshotter.v1.native/snapshots/<n>", "Options": [..]}]
        let mounts: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out:?}"));
        let source = mounts[0]["Source"].as_str().unwrap_or_else(|| panic!("no mount in {out:?}"));
        PathBuf::from(source)
    }

    /// `ctr -a <socket> -n isobox-test <args>`, its output whatever it did.
    pub fn try_ctr(&self, args: &[&str]) -> Output {
        Command::new(CTR)
            .arg("-a")
            .arg(&self.socket)
            .args(["-n", NAMESPACE])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// As [`try_ctr`](Self::try_ctr), asserting success; its stdout.
    pub fn ctr(&self, args: &[&str]) -> String {
        let out = self.try_ctr(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "ctr {args:?}: {}: {stderr}\ncontainerd's log:\n{}", out.status, self.log());
        String::from_utf8(out.stdout).unwrap()
    }

    /// What containerd wrote to its stdout and stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Kills (SIGTERM, then SIGKILL after 5 s) and reaps it; idempotent.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        self.stop();
        unmount_under(self.dir.path());
        // The TempDir removes the rest.
    }
}

/// The mount points at or under `dir` in this mount namespace, deepest first.
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut points: Vec<PathBuf> =
        info.lines().filter_map(|l| l.split(' ').nth(4)).map(unescape).filter(|p| p.starts_with(dir)).collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    points
}

/// Detaches every mount under `dir` (containerd mounts in its own namespace: normally none).
fn unmount_under(dir: &Path) {
    for point in mounts_under(dir) {
        let _ = nix::mount::umount2(&point, nix::mount::MntFlags::MNT_DETACH);
    }
}

/// A mountinfo path: spaces, tabs, newlines and backslashes are octal escapes.
fn unescape(field: &str) -> PathBuf {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| u8::from_str_radix(std::str::from_utf8(d).ok()?, 8).ok());
        match (bytes[i], octal) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    PathBuf::from(<std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(out))
}

fn have_unshare() -> bool {
    Command::new("unshare").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// The config: everything under `dir`, no CRI, no /opt/containerd, no debug or metrics
/// listener, one snapshotter.
fn config_toml(dir: &Path, socket: &Path, options: &Options) -> String {
    let mut disabled = vec!["io.containerd.grpc.v1.cri".to_string(), "io.containerd.internal.v1.opt".to_string()];
    let others = SNAPSHOTTERS.iter().filter(|s| **s != options.snapshotter);
    disabled.extend(others.map(|s| format!("io.containerd.snapshotter.v1.{s}")));
    let quoted: Vec<String> = disabled.iter().map(|p| format!("{p:?}")).collect();
    format!(
        "version = 2\nroot = {root:?}\nstate = {state:?}\ndisabled_plugins = [{plugins}]\n\n[grpc]\n  address = \
         {socket:?}\n\n[ttrpc]\n  address = {ttrpc:?}\n\n[debug]\n  address = \"\"\n\n[metrics]\n  address = \"\"\n\n{extra}\n",
        root = dir.join("root"),
        state = dir.join("state"),
        plugins = quoted.join(", "),
        ttrpc = dir.join("containerd.sock.ttrpc"),
        extra = options.extra_config,
    )
}
