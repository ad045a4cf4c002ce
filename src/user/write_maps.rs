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

/// How often a write refused with EACCES is tried again (see [`write_proc`]).
const EACCES_RETRIES: usize = 5;

/// Writes `text` to the child's `/proc/<pid>/<name>`. An unprivileged caller owns those files
/// only while the memory it shares with the child is dumpable, and another spawn's child
/// switching its ids in that same memory turns the flag off at any moment (spawns in other
/// threads): on EACCES the flag is set again (the spawn's `DumpableGuard` puts the caller's
/// own back) and the write tried again. Each file is written once when it succeeds.
fn write_proc(pid: Pid, name: &str, text: &str) -> Result<(), SpawnError> {
    let file = PathBuf::from(format!("/proc/{pid}/{name}"));
    let mut tries = 0;
    loop {
        match std::fs::write(&file, text) {
            Err(e) if e.raw_os_error() == Some(libc::EACCES) && tries < EACCES_RETRIES => {
                tries += 1;
                crate::spawn::dumpable::make_dumpable_now();
            }
            Ok(()) => return Ok(()),
            Err(source) => {
                let hint = (source.raw_os_error() == Some(libc::EPERM)).then_some(DENIED_HINT);
                return Err(SpawnError::IdMap { file, source, hint });
            }
        }
    }
}

fn run_helper(helper: &'static str, pid: Pid, ranges: &[IdRange]) -> Result<(), SpawnError> {
    let mut cmd = HostCommand::new(helper);
    cmd.arg(pid.to_string());
    for r in ranges {
        cmd.args([r.inside.to_string(), r.outside.to_string(), r.count.to_string()]);
    }
    // The helper checks that the child's /proc entry is the caller's: dumpable again, as above.
    if !nix::unistd::geteuid().is_root() {
        crate::spawn::dumpable::make_dumpable_now();
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
