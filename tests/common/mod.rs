//! Shared helpers for the integration tests.
#![allow(dead_code)]

use isobox::{Command, Error, Namespaces, Output, Sandbox, SpawnError};

/// The namespaces most tests use: everything an unprivileged caller can create.
pub fn full() -> Namespaces {
    Namespaces::USER | Namespaces::PID | Namespaces::MOUNT | Namespaces::UTS | Namespaces::IPC
}

/// Returns true if the test may go on. When `ok` is false the test is skipped with `why`
/// printed, unless ISOBOX_REQUIRE_PRIVILEGES=1 (as in CI), which turns the skip into a failure.
pub fn require(ok: bool, why: &str) -> bool {
    if ok {
        return true;
    }
    if std::env::var("ISOBOX_REQUIRE_PRIVILEGES").as_deref() == Ok("1") {
        panic!("ISOBOX_REQUIRE_PRIVILEGES=1, but this test cannot run: {why}");
    }
    eprintln!("skipped: {why}");
    false
}

/// How many spawns a leak test makes where it asks for `n`: `n`, or `n / D` (at least 10)
/// under `ISOBOX_TEST_SPAWN_DIVISOR=D`, which CI's VM sets: it runs 15-40x slower, and 1000
/// NAT spawns took 13 minutes there. The host and rootless stages make all `n`.
pub fn spawns(n: usize) -> usize {
    let divisor = std::env::var("ISOBOX_TEST_SPAWN_DIVISOR").ok().and_then(|d| d.parse::<usize>().ok());
    divisor.filter(|d| *d > 1).map_or(n, |d| (n / d).max(10))
}

/// A test that cannot run because the kernel lacks a driver (`why`): a printed skip, or a
/// failure under `ISOBOX_REQUIRE_NET_KERNEL=1`, which CI's VM sets once it has loaded the
/// network modules (veth, bridge, tun, ifb, tc's, nftables'): there such a skip is a bug.
pub fn kernel_lacks(why: &str) {
    if std::env::var("ISOBOX_REQUIRE_NET_KERNEL").as_deref() == Ok("1") {
        panic!("ISOBOX_REQUIRE_NET_KERNEL=1, but the kernel lacks what this test needs: {why}");
    }
    eprintln!("skipped: {why}");
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Hands `dir` to the sandbox's root: a root caller's sandbox is nobody on the host
/// (`UserMapping::Unprivileged`), so it may only write what nobody owns. Rootless: no-op.
pub fn give_to_sandbox(dir: &std::path::Path) {
    if is_root() {
        std::os::unix::fs::chown(dir, Some(isobox::NOBODY), Some(isobox::NOBODY)).unwrap();
    }
}

/// The host uid and gid the sandbox's root is: the caller's own, or nobody for root.
pub fn sandbox_root_on_host() -> (u32, u32) {
    if is_root() {
        (isobox::NOBODY, isobox::NOBODY)
    } else {
        (nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw())
    }
}

/// Root on the host: for tests that need it.
pub fn require_root() -> bool {
    require(is_root(), "needs root on the host")
}

/// Whether this process may create a user namespace at all.
pub fn require_userns() -> bool {
    let sandbox = Sandbox::builder().namespaces(Namespaces::USER).build().expect("valid");
    let works = match sandbox.status(&Command::new("/bin/true")) {
        Ok(report) => report.success(),
        Err(Error::Spawn(SpawnError::Clone { .. })) => false,
        Err(e) => panic!("unexpected error probing user namespaces: {e}"),
    };
    require(works, "user namespaces are not available to this user")
}

/// Runs the ignored test `name` of this test binary alone, in a process of its own, and
/// asserts that it passed and printed `marker` (so that a failure that kills the process, or
/// other tests' spawns in flight, cannot hide in this one's).
pub fn run_alone(name: &str, marker: &str) {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args(["--exact", name, "--ignored", "--nocapture", "--test-threads=1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(marker),
        "{name} ended with {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A shell function for scripts of attempts: `t name command...` prints `name ok` or
/// `name failed`, the command's own output discarded.
pub const TRY: &str =
    "t() { n=$1; shift; if \"$@\" >/dev/null 2>&1; then echo \"$n ok\"; else echo \"$n failed\"; fi; }\n";

/// `n` milliseconds.
pub fn ms(n: u64) -> std::time::Duration {
    std::time::Duration::from_millis(n)
}

/// `program` with `args`.
pub fn cmd(program: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args);
    cmd
}

/// Runs `sh -c script` in `sandbox`, asserts success, and returns stdout as a string.
pub fn sh(sandbox: &Sandbox, script: &str) -> String {
    let out = sh_output(sandbox, script);
    assert!(
        out.report.success(),
        "script failed: {script}\nstatus: {:?}\nstderr: {}",
        out.report,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

pub fn sh_output(sandbox: &Sandbox, script: &str) -> Output {
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", script]);
    sandbox.output(&cmd).unwrap_or_else(|e| panic!("spawning `{script}`: {e}"))
}

/// A sandbox with the common namespaces and the given builder tweaks.
pub fn sandbox(tweak: impl FnOnce(&mut isobox::SandboxBuilder)) -> Sandbox {
    let mut b = Sandbox::builder();
    b.namespaces(full());
    tweak(&mut b);
    b.build().expect("valid sandbox")
}

/// True if `pid` no longer exists or is a zombie nobody will reap soon.
pub fn is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().map(|rest| rest.trim_start().starts_with('Z')).unwrap_or(false),
    }
}

/// Whether the running kernel is at least `major.minor`.
pub fn kernel_at_least(major: u32, minor: u32) -> bool {
    let uts = nix::sys::utsname::uname().unwrap();
    let release = uts.release().to_str().unwrap();
    let mut parts = release.split(|c: char| !c.is_ascii_digit()).map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (major, minor)
}

/// A process started with std::process::Command that is killed and reaped however the test
/// ends: std's `Child` does neither on drop, so a panic would leave it running.
pub struct KillOnDrop(pub std::process::Child);

impl std::ops::Deref for KillOnDrop {
    type Target = std::process::Child;
    fn deref(&self) -> &std::process::Child {
        &self.0
    }
}

impl std::ops::DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut std::process::Child {
        &mut self.0
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // Both are harmless once the test has waited for it: std remembers the exit status.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether user-mode networking through `helper` can run here: its program installed and
/// `/dev/net/tun` usable by this user (CI's set-up provides both: else a skip that
/// `ISOBOX_REQUIRE_PRIVILEGES=1` fails); a kernel without tun at all (no `/dev/net/tun`: the
/// cgroup-v2 VM's without CI's modules) is [`kernel_lacks`].
pub fn require_user_net(helper: isobox::UserNetHelper) -> bool {
    if !require_userns() {
        return false;
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        kernel_lacks("this kernel has no /dev/net/tun (tun module not loaded)");
        return false;
    }
    let found = std::process::Command::new(helper.program()).arg("--version").output().is_ok();
    let tun = nix::unistd::access("/dev/net/tun", nix::unistd::AccessFlags::R_OK | nix::unistd::AccessFlags::W_OK);
    require(found, &format!("{helper} is not installed (package {})", helper.package()))
        && require(tun.is_ok(), "/dev/net/tun is not readable and writable by this user")
}
