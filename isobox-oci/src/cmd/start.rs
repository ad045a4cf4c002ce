//! `start ID`: one byte through the held container's `exec.fifo`, which its waiter reads
//! before it executes the program.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use crate::cli::{self, Global};
use crate::error::OciError;
use crate::state::{self, Status};

pub fn run(g: &Global, args: &[String]) -> Result<(), OciError> {
    let id = cli::parse(args, &[])?.id("start")?.to_string();
    let container = state::open(&g.root, &id)?;
    let status = container.status();
    if status != Status::Created {
        return Err(OciError::State { id, status: status.name(), what: "only a created container can be started" });
    }
    let fifo = container.fifo();
    // Non-blocking: with no reader (the held process is gone) this fails at once (ENXIO).
    let opened = std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(&fifo);
    let mut gate = match opened {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
            return Err(OciError::State { id, status: "stopped", what: "its held process has exited" })
        }
        Err(e) => return Err(OciError::io("opening the start gate", fifo)(e)),
    };
    gate.write_all(&[0]).map_err(OciError::io("writing to the start gate", &fifo))?;
    std::fs::remove_file(&fifo).map_err(OciError::io("removing the start gate", &fifo))?;
    // runtime-spec: a failed poststart hook is a warning; the container runs on.
    let running = state::spec_state(&container.record, Status::Running).to_string();
    if let Err(e) = crate::hooks::run(&container.record.hooks.poststart, &running, "poststart") {
        crate::log::warn(g, &e.to_string());
    }
    Ok(())
}
