//! Preparing one `Command` for one spawn (**parent**): argv, envp, the PATH lookup, the ids
//! inside, and the descriptors the child will arrange.

use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use nix::fcntl::OFlag;

use crate::command::{Command, Stdio, DEFAULT_PATH};
use crate::config::{self, Config};
use crate::error::{ConfigError, SpawnError};
use crate::idmap::{maps_inside, MapWriter};
use crate::sys::CStrArray;
use crate::Error;

/// Which stdio a stream gets when the command does not say (std: inherit for spawn, piped
/// output for `output()`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StdioDefaults {
    pub stdin: DefaultStdio,
    pub stdout: DefaultStdio,
    pub stderr: DefaultStdio,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DefaultStdio {
    Inherit,
    Null,
    Piped,
}

impl StdioDefaults {
    pub const SPAWN: StdioDefaults =
        StdioDefaults { stdin: DefaultStdio::Inherit, stdout: DefaultStdio::Inherit, stderr: DefaultStdio::Inherit };
    pub const OUTPUT: StdioDefaults =
        StdioDefaults { stdin: DefaultStdio::Null, stdout: DefaultStdio::Piped, stderr: DefaultStdio::Piped };
}

/// The ids the child switches to.
#[derive(Debug, Default)]
pub(crate) struct Ids {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub groups: Option<Vec<u32>>,
}

/// One command, ready for the child.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub argv: CStrArray,
    pub envp: CStrArray,
    pub candidates: Vec<CString>,
    pub cwd: Option<CString>,
    pub ids: Ids,
    pub fd_moves: Vec<(RawFd, RawFd)>,
    /// Descriptors the child copies from; the parent closes its copies after the spawn.
    pub child_ends: Vec<OwnedFd>,
    /// The parent's ends of piped stdio: stdin, stdout, stderr.
    pub parent_ends: [Option<OwnedFd>; 3],
}

pub(crate) fn prepare(cmd: &Command, config: &Config, defaults: StdioDefaults) -> Result<Prepared, Error> {
    let (argv, envp, candidates) = exec_arrays(cmd)?;
    let cwd = working_dir(cmd, config)?;
    let ids = ids_inside(cmd, config)?;
    let mut prepared = Prepared {
        argv,
        envp,
        candidates,
        cwd,
        ids,
        fd_moves: Vec::new(),
        child_ends: Vec::new(),
        parent_ends: [None, None, None],
    };
    stdio(cmd, defaults, &mut prepared)?;
    passed_fds(cmd, &mut prepared)?;
    Ok(prepared)
}

fn cstring(what: &str, s: &OsStr) -> Result<CString, ConfigError> {
    CString::new(s.as_bytes()).map_err(|_| ConfigError::NulByte { what: what.to_string() })
}

fn exec_arrays(cmd: &Command) -> Result<(CStrArray, CStrArray, Vec<CString>), ConfigError> {
    if cmd.program.is_empty() {
        return Err(ConfigError::EmptyProgram);
    }
    let mut argv = vec![cstring("the program", &cmd.program)?];
    for (i, arg) in cmd.args.iter().enumerate() {
        argv.push(cstring(&format!("argument {}", i + 1), arg)?);
    }
    let env = cmd.resolved_env();
    let mut envp = Vec::with_capacity(env.len());
    for (key, value) in &env {
        let mut pair = key.clone();
        pair.push("=");
        pair.push(value);
        envp.push(cstring(&format!("environment variable {key:?}"), &pair)?);
    }
    let path = env.get(OsStr::new("PATH")).map(|p| p.as_os_str());
    let candidates = candidates(&cmd.program, path);
    Ok((CStrArray::new(argv), CStrArray::new(envp), candidates))
}

/// The paths to try for `program`: itself if it has a slash, else each absolute PATH entry.
pub(crate) fn candidates(program: &OsStr, path: Option<&OsStr>) -> Vec<CString> {
    if program.as_bytes().contains(&b'/') {
        return CString::new(program.as_bytes()).into_iter().collect();
    }
    let path = path.unwrap_or(OsStr::new(DEFAULT_PATH));
    path.as_bytes()
        .split(|b| *b == b':')
        .filter(|dir| dir.first() == Some(&b'/'))
        .filter_map(|dir| {
            let mut full = OsString::from_vec(dir.to_vec()).into_vec();
            full.push(b'/');
            full.extend_from_slice(program.as_bytes());
            CString::new(full).ok()
        })
        .collect()
}

fn working_dir(cmd: &Command, config: &Config) -> Result<Option<CString>, ConfigError> {
    match &cmd.cwd {
        Some(dir) => {
            config::absolute("working directory", dir)?;
            Ok(Some(cstring("working directory", dir.as_os_str())?))
        }
        None if !config.plan.ops.is_empty() => Ok(Some(c"/".to_owned())),
        None => Ok(None),
    }
}

fn ids_inside(cmd: &Command, config: &Config) -> Result<Ids, ConfigError> {
    let Some(maps) = &config.maps else {
        let switching = cmd.uid.is_some() || cmd.gid.is_some();
        let groups = cmd.groups.clone().or_else(|| (switching && config.caller.is_root()).then(Vec::new));
        return Ok(Ids { uid: cmd.uid, gid: cmd.gid, groups });
    };
    let (uid, gid) = (cmd.uid.unwrap_or(0), cmd.gid.unwrap_or(0));
    let unmapped = |kind, id| ConfigError::UnmappedId { kind, id };
    if !maps_inside(&maps.uids, uid) {
        return Err(unmapped("uid", uid));
    }
    for gid in std::iter::once(gid).chain(cmd.groups.iter().flatten().copied()) {
        if !maps_inside(&maps.gids, gid) {
            return Err(unmapped("gid", gid));
        }
    }
    let setgroups_denied = maps.writer == (MapWriter::Direct { deny_setgroups: true });
    let groups = match (&cmd.groups, setgroups_denied) {
        (Some(_), true) => {
            return Err(ConfigError::IdMap {
                what: "supplementary groups",
                reason: "setgroups is denied in a user namespace mapped without privileges; \
                         use UserMapping::Subordinate or run as root",
            })
        }
        (Some(groups), false) => Some(groups.clone()),
        (None, false) if matches!(maps.writer, MapWriter::Direct { .. }) => Some(Vec::new()),
        (None, _) => None,
    };
    Ok(Ids { uid: Some(uid), gid: Some(gid), groups })
}

fn stdio(cmd: &Command, defaults: StdioDefaults, p: &mut Prepared) -> Result<(), SpawnError> {
    let streams = [(&cmd.stdin, defaults.stdin), (&cmd.stdout, defaults.stdout), (&cmd.stderr, defaults.stderr)];
    for (fd, (given, default)) in streams.into_iter().enumerate() {
        let target = fd as RawFd;
        match (given, default) {
            (Some(Stdio::Inherit), _) | (None, DefaultStdio::Inherit) => {}
            (Some(Stdio::Null), _) | (None, DefaultStdio::Null) => {
                // std opens with O_CLOEXEC.
                let null: OwnedFd = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open("/dev/null")
                    .map_err(SpawnError::io("opening /dev/null for stdio"))?
                    .into();
                p.fd_moves.push((null.as_raw_fd(), target));
                p.child_ends.push(null);
            }
            (Some(Stdio::Piped), _) | (None, DefaultStdio::Piped) => {
                let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
                    .map_err(|e| SpawnError::Io { what: "creating a stdio pipe", source: e.into() })?;
                let (child, parent) = if fd == 0 { (read, write) } else { (write, read) };
                p.fd_moves.push((child.as_raw_fd(), target));
                p.child_ends.push(child);
                p.parent_ends[fd] = Some(parent);
            }
            (Some(Stdio::Fd(owned)), _) => p.fd_moves.push((owned.as_raw_fd(), target)),
        }
    }
    Ok(())
}

fn passed_fds(cmd: &Command, p: &mut Prepared) -> Result<(), ConfigError> {
    for (target, fd) in &cmd.fds {
        if *target < 3 || p.fd_moves.iter().any(|(_, dst)| dst == target) {
            return Err(ConfigError::DuplicateFd { fd: *target });
        }
        p.fd_moves.push((fd.as_raw_fd(), *target));
    }
    Ok(())
}

#[cfg(test)]
#[path = "prepare_tests.rs"]
mod tests;
