//! Starting a helper for a sandbox (**parent**): pipes, its command, the fork from the spawner
//! thread, the wait for its network, and slirp4netns's port forwards.
//!
//! Readiness: pasta (`--foreground`) writes its pid file once the sandbox's `eth0` has its
//! address and route; the pid file is the write end of a pipe, reopened by pasta through
//! `/proc/self/fd/N`. slirp4netns writes `1` to `--ready-fd` once configured, with its API
//! socket listening. Either way EOF instead means the helper exited.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout};

use super::api;
use super::error::{UserNetError, UserNetStep};
use super::helper::UserNetProcess;
use super::plan::{Launch, UserNetPlan};
use super::probe::{errno_of, probe};
use super::spawner;
use super::spec::{PortForward, UserNetHelper};
use crate::sys;

/// How long a helper that reported EOF gets to exit by itself, for its own exit status.
const EXIT_GRACE: Duration = Duration::from_millis(500);

/// Starts the plan's helper for the sandbox whose init is `pid` (it must have its own user and
/// network namespaces), and returns once the sandbox's network is up and every port forward
/// is in place. On any failure the helper is killed and reaped before the error returns.
pub fn start(plan: &UserNetPlan, pid: u32) -> Result<UserNetProcess, UserNetError> {
    let net = &plan.net;
    let kind = net.helper;
    let found = probe(kind, &net.program)?;
    let io = |step| move |e: Errno| UserNetError::Io { helper: kind, step, errno: e };
    let (ready_read, ready_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(io(UserNetStep::Spawn))?;
    let exit_pipe = match kind {
        UserNetHelper::Slirp4netns => Some(nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(io(UserNetStep::Spawn))?),
        UserNetHelper::Pasta => None,
    };
    let api_dir = match kind {
        UserNetHelper::Slirp4netns if !net.ports.is_empty() => Some(ApiDir::new().map_err(io(UserNetStep::Spawn))?),
        _ => None,
    };
    let ns = match kind {
        UserNetHelper::Pasta => Some(open_namespaces(pid).map_err(io(UserNetStep::Spawn))?),
        UserNetHelper::Slirp4netns => None,
    };
    let launch = Launch {
        ns_fds: ns.as_ref().map(|(user, net)| (user.as_raw_fd(), net.as_raw_fd())),
        pid,
        ready_fd: ready_write.as_raw_fd(),
        exit_fd: exit_pipe.as_ref().map(|(read, _)| read.as_raw_fd()),
        api_socket: api_dir.as_ref().map(ApiDir::socket),
        as_root: nix::unistd::geteuid().is_root(),
    };
    let stderr = sys::usermode::stderr_file().map_err(|e| io(UserNetStep::Spawn)(errno_of(&e)))?;
    let mut cmd = Command::new(&net.program);
    cmd.args(plan.args(&launch)).env_clear().current_dir("/").stdin(Stdio::null()).stdout(Stdio::null());
    cmd.stderr(stderr.try_clone().map_err(|e| io(UserNetStep::Spawn)(errno_of(&e)))?);
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    let ns_fds = launch.ns_fds.map_or([None, None], |(user, net)| [Some(user), Some(net)]);
    let keep: Vec<_> = [Some(launch.ready_fd), launch.exit_fd].into_iter().chain(ns_fds).flatten().collect();
    sys::usermode::harden_before_exec(&mut cmd, &keep);
    let child = spawner::spawn(cmd).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => UserNetError::NotInstalled { helper: kind, program: net.program.clone() },
        _ => io(UserNetStep::Spawn)(errno_of(&e)),
    })?;
    let (exit_read, exit_write) = exit_pipe.unzip();
    drop((ready_write, exit_read, ns));
    let mut helper = UserNetProcess::new(kind, found.version, child, exit_write, stderr);
    let deadline = Instant::now() + net.ready_timeout;
    let ready = wait_ready(&mut helper, &ready_read, deadline, net.ready_timeout)
        .and_then(|()| add_forwards(api_dir.as_ref(), &net.ports, deadline));
    if let Err(e) = ready {
        // A failed start leaves nothing running: killed and reaped here, not in the background.
        let _ = helper.kill_and_reap(Duration::ZERO);
        return Err(e);
    }
    Ok(helper)
}

/// The user and network namespaces of process `pid`, close-on-exec (the helper's copies are
/// made inheritable in it).
fn open_namespaces(pid: u32) -> Result<(OwnedFd, OwnedFd), Errno> {
    let open = |what: &str| -> Result<OwnedFd, Errno> {
        let file = std::fs::File::open(format!("/proc/{pid}/ns/{what}"));
        file.map(OwnedFd::from).map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
    };
    Ok((open("user")?, open("net")?))
}

/// slirp4netns's port forwards, through its API socket in `dir` (none without one).
fn add_forwards(dir: Option<&ApiDir>, ports: &[PortForward], deadline: Instant) -> Result<(), UserNetError> {
    let Some(dir) = dir else {
        return Ok(());
    };
    for forward in ports {
        let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(100));
        api::add_hostfwd(&dir.socket(), forward, left)?;
    }
    Ok(())
}

/// Waits for the first byte on `ready` (the network is up), EOF (the helper exited) or the
/// deadline.
fn wait_ready(
    helper: &mut UserNetProcess,
    ready: &OwnedFd,
    deadline: Instant,
    timeout: Duration,
) -> Result<(), UserNetError> {
    let kind = helper.helper();
    let step = UserNetStep::Ready;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = PollTimeout::try_from(left.as_millis().min(i32::MAX as u128) as i32).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(ready.as_fd(), PollFlags::POLLIN)];
        match nix::poll::poll(&mut fds, ms) {
            Ok(0) => return Err(UserNetError::Timeout { helper: kind, step, waited: timeout }),
            Ok(_) => break,
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(UserNetError::Io { helper: kind, step, errno }),
        }
    }
    let mut byte = [0u8; 16];
    match nix::unistd::read(ready.as_raw_fd(), &mut byte) {
        Ok(n) if n > 0 => Ok(()),
        Ok(_) => Err(exited(helper)),
        Err(errno) => Err(UserNetError::Io { helper: kind, step, errno }),
    }
}

/// The error of a helper that closed its ready pipe without a word: its exit status, its
/// stderr, and whether /dev/net/tun was usable.
fn exited(helper: &mut UserNetProcess) -> UserNetError {
    let kind = helper.helper();
    match helper.kill_and_reap(EXIT_GRACE) {
        Ok(status) => UserNetError::Exited {
            helper: kind,
            step: UserNetStep::Ready,
            status,
            stderr: helper.stderr_tail(),
            tun_usable: tun_usable(),
        },
        Err(e) => e,
    }
}

fn tun_usable() -> bool {
    use nix::unistd::{access, AccessFlags};
    access("/dev/net/tun", AccessFlags::R_OK | AccessFlags::W_OK).is_ok()
}

/// A private directory (0700) for slirp4netns's API socket, removed with what is in it once
/// the forwards are added (the socket is needed for nothing after).
struct ApiDir {
    path: PathBuf,
}

static API_DIRS: AtomicU32 = AtomicU32::new(0);

impl ApiDir {
    fn new() -> Result<Self, Errno> {
        use std::os::unix::fs::DirBuilderExt;
        let base = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute() && dir.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        let n = API_DIRS.fetch_add(1, Ordering::Relaxed);
        let mut path = base.join(format!("isobox-slirp-{}-{n}", std::process::id()));
        // sun_path holds 107 bytes and a NUL.
        if path.as_os_str().len() + "/api.sock".len() > 107 {
            path = Path::new("/tmp").join(format!("isobox-slirp-{}-{n}", std::process::id()));
        }
        std::fs::DirBuilder::new().mode(0o700).create(&path).map_err(|e| errno_of(&e))?;
        Ok(Self { path })
    }

    fn socket(&self) -> PathBuf {
        self.path.join("api.sock")
    }
}

impl Drop for ApiDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.socket());
        let _ = std::fs::remove_dir(&self.path);
    }
}

impl super::spec::UserNet {
    /// Validates this network ([`UserNetPlan::new`]) and [`start`]s its helper for the sandbox
    /// whose init is `pid`.
    pub fn start(&self, pid: u32) -> Result<UserNetProcess, UserNetError> {
        start(&UserNetPlan::new(self)?, pid)
    }
}
