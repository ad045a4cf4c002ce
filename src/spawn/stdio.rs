//! The program's stdio and passed descriptors (**parent**, per spawn): which descriptor each
//! target gets, and the pipe ends the `Child` keeps.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::fcntl::OFlag;

use crate::command::{Command, Stdio};
use crate::error::{ConfigError, SpawnError};

/// Which stdio a stream gets when the command does not say (std: inherit for spawn, piped
/// output for `output()`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StdioDefaults {
    pub stdin: DefaultStdio,
    pub stdout: DefaultStdio,
    pub stderr: DefaultStdio,
}

/// One stream's default.
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

/// The descriptors of one spawn.
#[derive(Debug, Default)]
pub(crate) struct Descriptors {
    /// (source, target) pairs the child arranges.
    pub moves: Vec<(RawFd, RawFd)>,
    /// Descriptors the child copies from; the parent closes its copies after the spawn.
    pub child_ends: Vec<OwnedFd>,
    /// The parent's ends of piped stdio: stdin, stdout, stderr.
    pub parent_ends: [Option<OwnedFd>; 3],
}

/// Stdio as the command or the defaults say, then the passed descriptors.
/// `nofile` is the soft RLIMIT_NOFILE the child will run with.
pub(crate) fn descriptors(
    cmd: &Command,
    defaults: StdioDefaults,
    nofile: u64,
) -> Result<Descriptors, crate::error::Error> {
    let mut d = Descriptors::default();
    stdio(cmd, defaults, &mut d)?;
    passed_fds(cmd, nofile, &mut d)?;
    room_to_move(&d.moves, nofile)?;
    Ok(d)
}

fn stdio(cmd: &Command, defaults: StdioDefaults, d: &mut Descriptors) -> Result<(), SpawnError> {
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
                d.moves.push((null.as_raw_fd(), target));
                d.child_ends.push(null);
            }
            (Some(Stdio::Piped), _) | (None, DefaultStdio::Piped) => {
                let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
                    .map_err(|e| SpawnError::Io { what: "creating a stdio pipe", source: e.into() })?;
                let (child, parent) = if fd == 0 { (read, write) } else { (write, read) };
                d.moves.push((child.as_raw_fd(), target));
                d.child_ends.push(child);
                d.parent_ends[fd] = Some(parent);
            }
            (Some(Stdio::Fd(owned)), _) => d.moves.push((owned.as_raw_fd(), target)),
        }
    }
    Ok(())
}

/// Copies of the caller's own standard descriptors for the targets 0–2 that `moves` leaves
/// inherited: isobox's waiter (a pooled or held sandbox) holds none of the caller's, so an
/// inherited stdio must travel with the command. A closed one stays closed.
pub(crate) fn send_inherited(moves: &mut Vec<(RawFd, RawFd)>, child_ends: &mut Vec<OwnedFd>) -> Result<(), SpawnError> {
    use std::os::fd::AsFd;
    let (stdin, stdout, stderr) = (std::io::stdin(), std::io::stdout(), std::io::stderr());
    let own = [stdin.as_fd(), stdout.as_fd(), stderr.as_fd()];
    for (target, fd) in own.into_iter().enumerate() {
        let target = target as RawFd;
        if moves.iter().any(|(_, t)| *t == target) {
            continue;
        }
        match crate::sys::fd::dup_at_or_above(fd, 3) {
            Ok(copy) => {
                moves.push((copy.as_raw_fd(), target));
                child_ends.push(copy);
            }
            Err(e) if e.raw_os_error() == Some(libc::EBADF) => {}
            Err(e) => return Err(SpawnError::io("copying the caller's stdio for the sandbox")(e)),
        }
    }
    Ok(())
}

/// The child copies every source above the highest number in play (the control pipes' four
/// included, which the kernel gives the lowest free numbers), one slot per move: all of it must
/// stay below the open-files limit, or the child's dup3 would fail late with EBADF.
fn room_to_move(moves: &[(RawFd, RawFd)], nofile: u64) -> Result<(), ConfigError> {
    let Some((fd, highest)) = moves.iter().flat_map(|(s, t)| [*s, *t]).map(|fd| (fd, fd as u64)).max_by_key(|p| p.1)
    else {
        return Ok(());
    };
    let control_pipes = 4;
    if highest.saturating_add(control_pipes + moves.len() as u64 + 1) >= nofile {
        return Err(ConfigError::FdTargetTooHigh { fd, limit: nofile });
    }
    Ok(())
}

fn passed_fds(cmd: &Command, nofile: u64, d: &mut Descriptors) -> Result<(), ConfigError> {
    for (target, fd) in &cmd.fds {
        if *target < 3 {
            return Err(ConfigError::StdioFdTarget { fd: *target });
        }
        if (*target as u64).saturating_add(1) >= nofile {
            return Err(ConfigError::FdTargetTooHigh { fd: *target, limit: nofile });
        }
        if d.moves.iter().any(|(_, dst)| dst == target) {
            return Err(ConfigError::DuplicateFd { fd: *target });
        }
        d.moves.push((fd.as_raw_fd(), *target));
    }
    Ok(())
}
