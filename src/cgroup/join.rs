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
//! hierarchy's mount point and the child opens `<parent>/<name>/tasks` relative to it, which
//! works after pivot_root too, and finds the parent even if another isobox process removed it
//! and this one made it again meanwhile (`group::create_below`).

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::error::{place_error, CgroupError};
use super::group::Cgroup;
use super::plan::Planned;

/// One file the child writes "0" to.
#[derive(Debug)]
pub(crate) struct JoinFile {
    /// The hierarchy's mount point, or for a command joining a live sandbox the sandbox's
    /// directory (O_PATH, close-on-exec).
    parent: OwnedFd,
    /// `<parent>/<name>/tasks` (v1) or `…/cgroup.procs` (v2), relative to `parent`.
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

/// Opens the mount point of each planned directory's hierarchy (its parent is held prepared),
/// and names the file the child joins through, relative to it.
pub(crate) fn prepare(planned: &[Planned]) -> Result<Vec<JoinFile>, CgroupError> {
    let mut files = Vec::new();
    for p in planned {
        let fd = open_dir(&p.mount).map_err(|source| place_error(p.mount.clone(), None, source))?;
        let file = p.dir.join_file();
        let path = p.dir.path.join(file);
        let relative = path.strip_prefix(&p.mount).unwrap_or(&path);
        // A cgroup path never holds a NUL (checked at build()).
        let relative = CString::new(relative.as_os_str().as_bytes()).expect("no NUL in a cgroup path");
        files.push(JoinFile { parent: fd, relative, path });
    }
    Ok(files)
}

fn open_dir(dir: &Path) -> std::io::Result<OwnedFd> {
    let opened = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_PATH | libc::O_DIRECTORY).open(dir);
    opened.map(OwnedFd::from)
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
        let parent = open_dir(&dir.path).map_err(|source| place_error(dir.path.clone(), None, source))?;
        let file = dir.join_file();
        let relative = CString::new(file).expect("a join file's name has no NUL");
        files.push(JoinFile { parent, relative, path: dir.path.join(file) });
    }
    Ok((files, None))
}
