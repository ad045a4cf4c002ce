//! What `Network::UserMode` needs (**parent**): a helper that answers `--version` (the probe a
//! spawn makes, `net::usermode::probe`, whose answer it remembers) and /dev/net/tun, a
//! character device this caller may read and write (checked with `access`, not opened: an open
//! would load the tun module if it is not loaded, and the doctor changes nothing).

use std::path::Path;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::errno::Errno;

use super::report::{Check, CheckState, Detail, Finding, HelperRun};
use super::syscalls::state_of;
use crate::net::usermode::error::{UserNetError, UserNetStep};
use crate::net::usermode::probe::{probe, Probe};
use crate::net::usermode::spec::UserNetHelper;

/// How long the helpers' `--version` (run side by side) may take before the doctor stops
/// waiting: a cold start from a slow disk (the test VM's 9p root) took 2 s.
const VERSION_TIMEOUT: Duration = Duration::from_secs(5);

const TUN: &str = "/dev/net/tun";

/// Both helpers, tun, and the summary line.
pub(super) fn findings(out: &mut Vec<Finding>) {
    let mut usable = Vec::new();
    let deadline = Instant::now() + VERSION_TIMEOUT;
    let helpers = [(Check::Pasta, UserNetHelper::Pasta), (Check::Slirp4netns, UserNetHelper::Slirp4netns)];
    let started = helpers.map(|(check, helper)| (check, helper, start(helper)));
    for (check, helper, started) in started {
        let run = wait(helper, started, deadline);
        if matches!(run, HelperRun::Version(_)) {
            usable.push(helper);
        }
        out.push(helper_finding(check, helper, run));
    }
    let tun = tun();
    out.push(tun.clone());
    let tun_ok = tun.state == CheckState::Works;
    let (state, fix) = match (usable.is_empty(), tun_ok) {
        (false, true) => (CheckState::Works, None),
        (true, _) => (CheckState::Missing, Some("install passt (pasta) or slirp4netns".to_string())),
        (false, false) => (tun.state, tun.fix.clone()),
    };
    out.push(Finding {
        check: Check::UserModeNetworking,
        state,
        detail: Detail::UserNet { helpers: usable, tun: tun_ok },
        fix,
    });
}

type Answer = mpsc::Receiver<Result<Probe, UserNetError>>;

/// Starts `helper --version` through the spawn's own probe, on a thread of its own so that a
/// helper that never answers cannot hold the doctor (the thread ends when the helper does).
fn start(helper: UserNetHelper) -> Result<Answer, Errno> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("isobox-doctor".into())
        .spawn(move || {
            let _ = tx.send(probe(helper, Path::new(helper.program())));
        })
        .map_err(|e| e.raw_os_error().map_or(Errno::EAGAIN, Errno::from_raw))?;
    Ok(rx)
}

fn wait(helper: UserNetHelper, started: Result<Answer, Errno>, deadline: Instant) -> HelperRun {
    let answer = match started {
        Ok(answer) => answer,
        Err(errno) => return HelperRun::Failed(Arc::new(UserNetError::Io { helper, step: UserNetStep::Probe, errno })),
    };
    match answer.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(Ok(found)) => HelperRun::Version(found.version),
        Ok(Err(e)) => HelperRun::Failed(Arc::new(e)),
        Err(_) => HelperRun::TimedOut(VERSION_TIMEOUT),
    }
}

fn helper_finding(check: Check, helper: UserNetHelper, run: HelperRun) -> Finding {
    let (state, fix) = match &run {
        HelperRun::Version(_) => (CheckState::Works, None),
        HelperRun::Failed(e) if matches!(**e, UserNetError::NotInstalled { .. }) => {
            (CheckState::Missing, Some(format!("install the package {}", helper.package())))
        }
        HelperRun::Failed(e) if matches!(**e, UserNetError::Unsupported { .. }) => {
            (CheckState::Missing, Some(format!("upgrade {} to 0.4 or later", helper.package())))
        }
        HelperRun::Failed(_) => (
            CheckState::Unknown,
            Some(format!("run `{helper} --version` to see why it fails; reinstall {}", helper.package())),
        ),
        HelperRun::TimedOut(_) => {
            (CheckState::Unknown, Some(format!("`{helper} --version` hangs: reinstall {}", helper.package())))
        }
    };
    Finding { check, state, detail: Detail::UserNetHelper { helper, run }, fix }
}

/// Whether /dev/net/tun is a character device this caller may read and write.
fn tun() -> Finding {
    use std::os::unix::fs::FileTypeExt;
    let errno = match std::fs::metadata(TUN) {
        Err(e) => Some(e.raw_os_error().map_or(Errno::EIO, Errno::from_raw)),
        Ok(m) if !m.file_type().is_char_device() => Some(Errno::ENODEV),
        Ok(_) => nix::unistd::access(TUN, nix::unistd::AccessFlags::R_OK | nix::unistd::AccessFlags::W_OK).err(),
    };
    let (state, fix) = match errno {
        None => (CheckState::Works, None),
        Some(Errno::ENOENT | Errno::ENODEV | Errno::ENXIO) => {
            (CheckState::Missing, Some("load the tun module (modprobe tun) so that /dev/net/tun exists"))
        }
        Some(e) => match state_of(Some(e)) {
            CheckState::Forbidden => (
                CheckState::Forbidden,
                Some("make /dev/net/tun mode 0666, the distribution's default (chmod 0666 /dev/net/tun)"),
            ),
            other => (other, Some("check /dev/net/tun: it should be the character device 10:200, mode 0666")),
        },
    };
    Finding { check: Check::Tun, state, detail: Detail::Device { path: TUN, errno }, fix: fix.map(String::from) }
}
