//! Whether a helper's program is there, and which version it is (**parent**): `--version`,
//! run once per program and remembered for the process.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nix::errno::Errno;

use super::error::{UserNetError, UserNetStep};
use super::spec::UserNetHelper;

/// Waits for `child` up to [`PROBE_TIMEOUT`] (killed and reaped after it), then takes what it
/// printed (a few lines: the pipes hold them until then).
fn finish(mut child: std::process::Child, helper: UserNetHelper) -> Result<std::process::Output, UserNetError> {
    let io = |e: std::io::Error| UserNetError::Io { helper, step: UserNetStep::Probe, errno: errno_of(&e) };
    let started = Instant::now();
    while child.try_wait().map_err(io)?.is_none() {
        if started.elapsed() >= PROBE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(UserNetError::Timeout { helper, step: UserNetStep::Probe, waited: started.elapsed() });
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.wait_with_output().map_err(io)
}

/// What probing found: the first line `--version` printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Probe {
    pub version: String,
}

static PROBED: Mutex<Vec<(UserNetHelper, PathBuf, Probe)>> = Mutex::new(Vec::new());

/// The oldest slirp4netns with `--ready-fd`, `--exit-fd`, `--api-socket` and `--enable-sandbox`.
const SLIRP_NEEDS: (u32, u32) = (0, 4);

/// Probes `program` as `helper`, or returns what an earlier probe found.
pub(crate) fn probe(helper: UserNetHelper, program: &Path) -> Result<Probe, UserNetError> {
    let known = PROBED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, _, found)) = known.iter().find(|(h, p, _)| *h == helper && p == program) {
        return Ok(found.clone());
    }
    drop(known);
    let found = run(helper, program)?;
    PROBED.lock().unwrap_or_else(|e| e.into_inner()).push((helper, program.to_owned(), found.clone()));
    Ok(found)
}

/// How long `--version` may take: a helper that hangs must not hang the spawn (or the doctor).
const PROBE_TIMEOUT: Duration = Duration::from_secs(if cfg!(test) { 1 } else { 5 });

fn run(helper: UserNetHelper, program: &Path) -> Result<Probe, UserNetError> {
    let mut cmd = Command::new(program);
    cmd.arg("--version").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).env_clear();
    let child = cmd.spawn().map_err(|e| match e.kind() {
        ErrorKind::NotFound => UserNetError::NotInstalled { helper, program: program.to_owned() },
        _ => UserNetError::Io { helper, step: UserNetStep::Probe, errno: errno_of(&e) },
    })?;
    let out = finish(child, helper)?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        return Err(UserNetError::Exited {
            helper,
            step: UserNetStep::Probe,
            status: out.status,
            stderr,
            tun_usable: true,
        });
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.lines().next().unwrap_or("").trim().to_owned();
    if helper == UserNetHelper::Slirp4netns && parse_version(&version).is_some_and(|v| v < SLIRP_NEEDS) {
        return Err(UserNetError::Unsupported { helper, version, needs: "slirp4netns 0.4" });
    }
    Ok(Probe { version })
}

/// The major and minor numbers of a line like `slirp4netns version 1.2.0`.
fn parse_version(line: &str) -> Option<(u32, u32)> {
    let number = line.split_whitespace().find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    let mut parts = number.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next().flatten().unwrap_or(0)))
}

pub(crate) fn errno_of(e: &std::io::Error) -> Errno {
    e.raw_os_error().map_or(Errno::EIO, Errno::from_raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("slirp4netns version 1.2.0"), Some((1, 2)));
        assert_eq!(parse_version("slirp4netns version 0.3.0-beta.1"), Some((0, 3)));
        assert_eq!(parse_version("pasta unknown version"), None);
    }

    #[test]
    fn a_missing_program_is_not_installed() {
        let err = probe(UserNetHelper::Pasta, Path::new("/nonexistent/isobox-no-pasta")).unwrap_err();
        assert!(matches!(err, UserNetError::NotInstalled { helper: UserNetHelper::Pasta, .. }), "{err}");
        assert!(err.to_string().contains("passt"), "{err}");
    }

    #[test]
    fn a_helper_that_hangs_on_version_is_a_timeout_and_is_killed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("hung-helper");
        let pid_file = dir.path().join("pid");
        std::fs::write(&program, format!("#!/bin/sh\necho $$ > {}\nexec sleep 100\n", pid_file.display())).unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        let started = Instant::now();
        let err = probe(UserNetHelper::Slirp4netns, &program).unwrap_err();
        assert!(matches!(err, UserNetError::Timeout { step: UserNetStep::Probe, .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let state = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
        assert_eq!(state, "", "the hung helper is killed and reaped");
    }
}
