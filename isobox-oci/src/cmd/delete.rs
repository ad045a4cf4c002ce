//! `delete [--force] ID`: removes a stopped container's cgroup and state; with `--force` it
//! kills a created or running one first.

use std::time::{Duration, Instant};

use isobox::Detached;
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::cli::{self, flag, FlagSpec, Global};
use crate::error::OciError;
use crate::state::{self, Status};

const FLAGS: &[FlagSpec] = &[flag(&["force", "f"], false)];

pub fn run(g: &Global, args: &[String]) -> Result<(), OciError> {
    let p = cli::parse(args, FLAGS)?;
    let id = p.id("delete")?.to_string();
    let force = p.is_set("force");
    let container = match state::open(&g.root, &id) {
        Ok(c) => c,
        // runc: deleting what is not there is no error with --force.
        Err(OciError::NotFound { .. }) if force => return Ok(()),
        Err(e) => return Err(e),
    };
    let r = &container.record;
    match container.status() {
        // runtime-spec: deleting a container that is not stopped is an error, and changes nothing.
        status @ (Status::Created | Status::Running) if !force => {
            return Err(OciError::State { id, status: status.name(), what: "stop it first (kill), or delete --force" })
        }
        Status::Stopped => {}
        Status::Created | Status::Running => {
            let _ = nix::sys::signal::kill(Pid::from_raw(r.pid), Signal::SIGKILL);
            wait_gone(r.pid, r.pid_start);
        }
    }
    Detached::from_parts(r.pid as u32, r.cgroup_dirs.clone(), r.cgroup_parents_made.clone())
        .remove_cgroups()
        .map_err(OciError::sandbox("removing the container's cgroup"))?;
    std::fs::remove_dir_all(&container.dir).map_err(OciError::io("removing the container's state", &container.dir))?;
    // runtime-spec: a failed poststop hook is a warning; the container is gone either way.
    let stopped = state::spec_state(r, Status::Stopped).to_string();
    if let Err(e) = crate::hooks::run(&r.hooks.poststop, &stopped, "poststop") {
        crate::log::warn(g, &e.to_string());
    }
    Ok(())
}

/// Waits (at most 5 s) until the process has exited; its zombie is its parent's to reap.
fn wait_gone(pid: i32, start: u64) {
    let until = Instant::now() + Duration::from_secs(5);
    while state::process_is(pid, start) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(2));
    }
}
