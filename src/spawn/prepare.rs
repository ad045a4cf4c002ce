//! Preparing one `Command` for one spawn (**parent**): argv, envp, the PATH lookup, the
//! working directory, the ids inside and the descriptors, as the child's [`ExecPlan`].

use std::ffi::{CString, OsStr, OsString};
use std::os::fd::OwnedFd;
use std::os::fd::RawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use super::stdio::{descriptors, StdioDefaults};
use crate::build::{SandboxPlan, ARGS_RESERVE};
use crate::child::plan::ExecPlan;
use crate::command::{Command, DEFAULT_PATH};
use crate::error::{ConfigError, Error};
use crate::image::run::plan::ImageDefaults;
use crate::sys::CStrArray;
use crate::user::ids::{self, Ids, Requested};
use crate::validate;

/// One command, ready for the child, and the descriptors the parent keeps.
#[derive(Debug)]
pub(crate) struct PreparedCommand {
    pub exec: ExecPlan,
    /// Descriptors the child copies from; the parent closes its copies after the spawn.
    pub child_ends: Vec<OwnedFd>,
    /// The parent's ends of piped stdio: stdin, stdout, stderr.
    pub parent_ends: [Option<OwnedFd>; 3],
}

/// Prepares `cmd` for a spawn of `sandbox`; every check that can fail does so here.
pub(crate) fn prepare(cmd: &Command, sandbox: &SandboxPlan, defaults: StdioDefaults) -> Result<PreparedCommand, Error> {
    let image = sandbox.image.as_ref();
    let (argv, envp, candidates) = exec_arrays(cmd, image.map(|i| i.env.as_slice()))?;
    let cwd = working_dir(cmd, image.and_then(|i| i.cwd.as_deref()), !sandbox.child.mounts.ops.is_empty())?;
    let ids = ids::inside(requested(cmd, image), &sandbox.user, &sandbox.caller)?;
    let fds = descriptors(cmd, defaults, child_nofile(sandbox))?;
    fits_memory_limit(&argv, &envp, &fds.moves, sandbox)?;
    let exec = ExecPlan { argv, envp, candidates, cwd, ids, fd_moves: fds.moves };
    Ok(PreparedCommand { exec, child_ends: fds.child_ends, parent_ends: fds.parent_ends })
}

/// [`prepare`] for isobox's waiter, a pooled or held sandbox's program: stdio left inherited
/// is sent as copies of the caller's (the waiter has none of the caller's descriptors).
pub(crate) fn prepare_handed(
    cmd: &Command,
    sandbox: &SandboxPlan,
    defaults: StdioDefaults,
) -> Result<PreparedCommand, Error> {
    let mut command = prepare(cmd, sandbox, defaults)?;
    super::stdio::send_inherited(&mut command.exec.fd_moves, &mut command.child_ends)?;
    Ok(command)
}

/// A pooled sandbox's launch: the sandbox's default ids, no descriptors, nothing to execute
/// (its program is isobox's waiter; the command comes later, see `pool`).
pub(crate) fn for_waiter(sandbox: &SandboxPlan) -> Result<PreparedCommand, Error> {
    Ok(for_waiter_as(default_ids(sandbox)?))
}

/// [`for_waiter`] with the ids of the command it will take (a held spawn's).
pub(crate) fn for_waiter_as(ids: Ids) -> PreparedCommand {
    let none = || CStrArray::new(Vec::new());
    let exec = ExecPlan { argv: none(), envp: none(), candidates: Vec::new(), cwd: None, ids, fd_moves: Vec::new() };
    PreparedCommand { exec, child_ends: Vec::new(), parent_ends: [None, None, None] }
}

/// The ids a command that names none runs with (the image's `User`, if any).
pub(crate) fn default_ids(sandbox: &SandboxPlan) -> Result<Ids, ConfigError> {
    let none = Requested { uid: None, gid: None, groups: None };
    let asked = sandbox.image.as_ref().and_then(image_ids).unwrap_or(none);
    ids::inside(asked, &sandbox.user, &sandbox.caller)
}

/// The ids `cmd` asks for: its own if it sets any of uid, gid and groups, else the image's.
fn requested<'a>(cmd: &'a Command, image: Option<&'a ImageDefaults>) -> Requested<'a> {
    let own = Requested { uid: cmd.uid, gid: cmd.gid, groups: cmd.groups.as_deref() };
    if own.uid.is_some() || own.gid.is_some() || own.groups.is_some() {
        return own;
    }
    image.and_then(image_ids).unwrap_or(own)
}

fn image_ids(image: &ImageDefaults) -> Option<Requested<'_>> {
    let ids = image.ids.as_ref()?;
    let groups = (!ids.groups.is_empty()).then_some(ids.groups.as_slice());
    Some(Requested { uid: Some(ids.uid), gid: Some(ids.gid), groups })
}

/// The soft open-files limit the child has while it moves its descriptors (the builder's is
/// set after that, see `RlimitPlan`).
fn child_nofile(sandbox: &SandboxPlan) -> u64 {
    sandbox.child.rlimits.nofile_while_arranging()
}

/// exec copies the arguments and environment into the new program's memory before the point
/// of no return, charged to the sandbox's cgroup while the child still shares the caller's
/// memory: they must fit above the setup floor, or an OOM kill could take the caller along.
/// So must the child's descriptor table where a high descriptor number makes it grow.
fn fits_memory_limit(
    argv: &CStrArray,
    envp: &CStrArray,
    moves: &[(RawFd, RawFd)],
    sandbox: &SandboxPlan,
) -> Result<(), ConfigError> {
    let Some(plan) = &sandbox.cgroup else { return Ok(()) };
    let Some(limit) = plan.memory_limit() else { return Ok(()) };
    let bytes: u64 = argv.iter().chain(envp.iter()).map(|s| s.to_bytes_with_nul().len() as u64 + 8).sum();
    let (highest, table) = fd_table_growth(moves);
    let needed = plan.memory_floor - ARGS_RESERVE.min(plan.memory_floor) + (2 * bytes).max(ARGS_RESERVE) + table;
    if limit >= needed {
        return Ok(());
    }
    if table > 0 {
        return Err(ConfigError::DescriptorTooHighForMemoryLimit { fd: highest, limit, needed });
    }
    Err(ConfigError::CommandTooLargeForMemoryLimit { bytes, limit, needed })
}

/// The highest descriptor the child uses (its moves go through scratch numbers above every
/// source, target and control pipe) and what growing its table to hold it may charge before
/// exec: the kernel doubles the table, 8 bytes of pointer and a few bits per slot, and frees
/// the old one only after. Tables up to 1024 slots fit in the floor's margin.
fn fd_table_growth(moves: &[(RawFd, RawFd)]) -> (RawFd, u64) {
    const CONTROL_FDS: i64 = 4;
    let top = moves.iter().flat_map(|(s, d)| [*s, *d]).max().unwrap_or(2) as i64;
    let highest = top + CONTROL_FDS + moves.len() as i64;
    let slots = (highest as u64 + 1).next_power_of_two();
    let bytes = if slots > 1024 { 16 * slots } else { 0 };
    (highest.min(RawFd::MAX as i64) as RawFd, bytes)
}

fn cstring(what: &str, s: &OsStr) -> Result<CString, ConfigError> {
    CString::new(s.as_bytes()).map_err(|_| ConfigError::NulByte { what: what.to_string() })
}

fn exec_arrays(
    cmd: &Command,
    image_env: Option<&[(OsString, OsString)]>,
) -> Result<(CStrArray, CStrArray, Vec<CString>), ConfigError> {
    if cmd.program.is_empty() {
        return Err(ConfigError::EmptyProgram);
    }
    let mut argv = vec![cstring("the program", &cmd.program)?];
    for (i, arg) in cmd.args.iter().enumerate() {
        argv.push(cstring(&format!("argument {}", i + 1), arg)?);
    }
    let env = cmd.resolved_env_over(image_env);
    let mut envp = Vec::with_capacity(env.len());
    for (key, value) in &env {
        if key.is_empty() || key.as_bytes().contains(&b'=') {
            return Err(ConfigError::EnvKey { key: key.clone() });
        }
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

/// The command's directory, or the image's, or `/` when the sandbox has a root of its own.
fn working_dir(cmd: &Command, image: Option<&Path>, own_root: bool) -> Result<Option<CString>, ConfigError> {
    match cmd.cwd.as_deref().or(image) {
        Some(dir) => {
            validate::absolute("working directory", dir)?;
            Ok(Some(cstring("working directory", dir.as_os_str())?))
        }
        None if own_root => Ok(Some(c"/".to_owned())),
        None => Ok(None),
    }
}

#[cfg(test)]
#[path = "prepare_tests.rs"]
mod tests;
