//! Joining the sandbox's cgroup from inside (**child**; see [`super::join`] for why the child
//! moves itself). Async-signal-safe: no allocation.

use nix::errno::Errno;

use super::join::JoinFile;
use crate::sys::child as sys;

/// Writes "0" (this process) to each join file; a failure says which file, by index.
pub(crate) fn join(files: &[JoinFile]) -> Result<(), (usize, Errno)> {
    for (index, file) in files.iter().enumerate() {
        sys::write_file_at(file.parent_fd(), file.relative(), b"0").map_err(|errno| (index, errno))?;
    }
    Ok(())
}
