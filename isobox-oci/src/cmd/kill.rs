//! `kill [--all] ID [SIGNAL]`: a signal (name or number, default SIGTERM) to the container's
//! first process, or with `--all` to every process of its cgroup.

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::cli::{self, flag, FlagSpec, Global};
use crate::error::OciError;
use crate::state::{self, Container, Status};

const FLAGS: &[FlagSpec] = &[flag(&["all", "a"], false)];

pub fn run(g: &Global, args: &[String]) -> Result<(), OciError> {
    let p = cli::parse(args, FLAGS)?;
    let (id, signal) = match p.args.as_slice() {
        [id] => (id.clone(), Signal::SIGTERM),
        [id, sig] => (id.clone(), parse_signal(sig)?),
        _ => return Err(OciError::Usage("kill: ID [SIGNAL] expected".into())),
    };
    let container = state::open(&g.root, &id)?;
    if container.status() == Status::Stopped {
        return Err(OciError::State { id, status: "stopped", what: "there is no process to signal" });
    }
    if p.is_set("all") {
        signal_all(&container, signal);
    }
    send(&container, container.record.pid, signal)
}

fn send(c: &Container, pid: i32, signal: Signal) -> Result<(), OciError> {
    nix::sys::signal::kill(Pid::from_raw(pid), signal).map_err(|errno| OciError::Signal {
        id: c.record.id.clone(),
        pid,
        signal: signal as i32,
        errno,
    })
}

/// Every process listed in the container's cgroups (none without a cgroup).
fn signal_all(c: &Container, signal: Signal) {
    for pid in state::cgroup_pids(&c.record) {
        let _ = nix::sys::signal::kill(Pid::from_raw(pid), signal);
    }
}

/// `KILL`, `SIGKILL` or `9`.
pub fn parse_signal(s: &str) -> Result<Signal, OciError> {
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| OciError::Usage(format!("kill: no signal {n}")));
    }
    let name = s.to_ascii_uppercase();
    let name = if name.starts_with("SIG") { name } else { format!("SIG{name}") };
    name.parse::<Signal>().map_err(|_| OciError::Usage(format!("kill: no signal {s:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_name_or_number() {
        assert_eq!(parse_signal("9").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("KILL").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("sigterm").unwrap(), Signal::SIGTERM);
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("99").is_err());
    }
}
