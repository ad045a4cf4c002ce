//! Whether a helper's program is there, and which version it is (**parent**): `--version`,
//! run once per program and remembered for the process.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use nix::errno::Errno;

use super::error::{UserNetError, UserNetStep};
use super::spec::UserNetHelper;

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

fn run(helper: UserNetHelper, program: &Path) -> Result<Probe, UserNetError> {
    let out = Command::new(program).arg("--version").stdin(Stdio::null()).env_clear().output().map_err(|e| match e
        .kind()
    {
        ErrorKind::NotFound => UserNetError::NotInstalled { helper, program: program.to_owned() },
        _ => UserNetError::Io { helper, step: UserNetStep::Probe, errno: errno_of(&e) },
    })?;
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
}
