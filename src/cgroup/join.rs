//! The child joins its cgroup itself on hosts with cgroup v1 hierarchies (**parent** prepares
//! the files before the clone, **child** writes them).
//!
//! Moving another process (writing its pid to `cgroup.procs`) takes the kernel's global
//! `cgroup_threadgroup_rwsem` for writing, which waits for an RCU grace period: hundreds of µs,
//! milliseconds at the tail, per hierarchy. Writing "0" to a v1 `tasks` file moves only the
//! calling thread and skips that lock (kernel/cgroup/cgroup.c, `cgroup_procs_write_start`); the
//! child is a single-threaded process, so that moves all of it. A v2 directory on a hybrid
//! host takes "0" in `cgroup.procs`. The parent cannot open these files for the child (they do
//! not exist before the clone, and the child has its own descriptor table), so it opens each
//! parent directory and the child opens `<name>/tasks` relative to it, which works after
//! pivot_root too.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::dir::Dir;
use super::error::CgroupError;
use super::group::Cgroup;
use super::parent_dirs::open_prepared;

/// One file the child writes "0" to.
#[derive(Debug)]
pub(crate) struct JoinFile {
    /// The parent cgroup's directory (O_PATH, close-on-exec).
    parent: OwnedFd,
    /// `<name>/tasks` (v1) or `<name>/cgroup.procs` (v2), relative to `parent`.
    relative: CString,
    /// The whole path, for error messages.
    pub path: PathBuf,
}

impl JoinFile {
    /// The directory fd to open `relative()` from. Async-signal-safe: reads a field.
    pub fn parent_fd(&self) -> RawFd {
        self.parent.as_raw_fd()
    }

    pub fn relative(&self) -> &std::ffi::CStr {
        &self.relative
    }
}

/// Prepares (once per process) and opens the parent directory of each planned directory,
/// and names the file the child joins through.
pub(crate) fn prepare(planned: &[(PathBuf, Dir)]) -> Result<Vec<JoinFile>, CgroupError> {
    let mut files = Vec::new();
    for (parent_dir, dir) in planned {
        let fd = open_prepared(parent_dir, dir.version, &dir.controllers)?;
        let file = dir.join_file();
        let path = dir.path.join(file);
        let relative = Path::new(dir.path.file_name().unwrap_or_default()).join(file);
        // A cgroup name never holds a NUL: it is "isobox-<pid>-<n>".
        let relative = CString::new(relative.as_os_str().as_bytes()).expect("no NUL in a cgroup name");
        files.push(JoinFile { parent: fd, relative, path });
    }
    Ok(files)
}

/// For a process joining the existing `cgroup` (`Child::exec`): on a pure v2 host its
/// directory, to be born in (`CLONE_INTO_CGROUP`); elsewhere the files it writes "0" to, each
/// relative to a descriptor of its own directory.
pub(crate) fn existing(cgroup: &Cgroup) -> Result<(Vec<JoinFile>, Option<OwnedFd>), CgroupError> {
    if let Some(fd) = cgroup.v2_dir_fd() {
        return Ok((Vec::new(), Some(fd)));
    }
    let mut files = Vec::new();
    for dir in &cgroup.dirs {
        let opened =
            std::fs::OpenOptions::new().read(true).custom_flags(libc::O_PATH | libc::O_DIRECTORY).open(&dir.path);
        let parent = OwnedFd::from(opened.map_err(|source| CgroupError::Place { path: dir.path.clone(), source })?);
        let file = dir.join_file();
        let relative = CString::new(file).expect("a join file's name has no NUL");
        files.push(JoinFile { parent, relative, path: dir.path.join(file) });
    }
    Ok((files, None))
}
