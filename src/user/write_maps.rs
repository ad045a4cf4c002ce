//! Writing the id maps of a child that waits for them (**parent**, between clone and release).

use std::path::PathBuf;
use std::process::Command as HostCommand;

use nix::unistd::Pid;

use super::plan::{map_text, IdMaps, MapWriter};
use super::spec::IdRange;
use crate::error::SpawnError;

const DENIED_HINT: &str = "mapping ids other than your own needs root (CAP_SETUID/CAP_SETGID); \
     use UserMapping::Current, or UserMapping::Subordinate with entries in /etc/subuid and /etc/subgid";

/// Writes the maps for the child `pid`, which waits meanwhile.
pub(crate) fn write_maps(maps: &IdMaps, pid: Pid) -> Result<(), SpawnError> {
    match maps.writer {
        MapWriter::Direct { deny_setgroups } => {
            if deny_setgroups {
                write_proc(pid, "setgroups", "deny")?;
            }
            write_proc(pid, "uid_map", &map_text(&maps.uids))?;
            write_proc(pid, "gid_map", &map_text(&maps.gids))
        }
        MapWriter::Helpers => {
            run_helper("newuidmap", pid, &maps.uids)?;
            run_helper("newgidmap", pid, &maps.gids)
        }
    }
}

fn write_proc(pid: Pid, name: &str, text: &str) -> Result<(), SpawnError> {
    let file = PathBuf::from(format!("/proc/{pid}/{name}"));
    std::fs::write(&file, text).map_err(|source| {
        let hint = (source.raw_os_error() == Some(libc::EPERM)).then_some(DENIED_HINT);
        SpawnError::IdMap { file, source, hint }
    })
}

fn run_helper(helper: &'static str, pid: Pid, ranges: &[IdRange]) -> Result<(), SpawnError> {
    let mut cmd = HostCommand::new(helper);
    cmd.arg(pid.to_string());
    for r in ranges {
        cmd.args([r.inside.to_string(), r.outside.to_string(), r.count.to_string()]);
    }
    let out = cmd.output().map_err(|source| SpawnError::IdMapHelperMissing { helper, source })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(SpawnError::IdMapHelperFailed { helper, status: out.status, stderr });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_helper_says_which_package_provides_it() {
        let ranges = [IdRange { inside: 0, outside: 1000, count: 1 }];
        let err = run_helper("isobox-no-such-newuidmap", Pid::from_raw(1), &ranges).unwrap_err();
        assert!(matches!(err, SpawnError::IdMapHelperMissing { helper: "isobox-no-such-newuidmap", .. }));
        assert!(err.to_string().contains("install the uidmap package"), "{err}");
    }
}
