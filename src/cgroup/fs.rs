//! Small cgroupfs file operations against a directory passed in (**parent**), so they can be
//! tested on a temporary directory.

use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

/// Reads a cgroupfs file: open, read until EOF, close. `std::fs::read_to_string` also stats
/// the file for its size, which cgroupfs reports as 0: a system call per file for nothing, and
/// the exit report reads half a dozen files.
pub(crate) fn read_small(path: &Path) -> io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut text = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => text.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    String::from_utf8(text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// One write(2) of `value` to an existing file (cgroupfs parses each write on its own).
pub(crate) fn write_file(path: &Path, value: &str) -> io::Result<()> {
    let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
    let written = file.write(value.as_bytes())?;
    if written != value.len() {
        return Err(io::Error::new(io::ErrorKind::WriteZero, "short write to a cgroup file"));
    }
    Ok(())
}

/// The pids listed in `dir/cgroup.procs`.
pub(crate) fn procs(dir: &Path) -> Vec<i32> {
    let text = read_small(&dir.join("cgroup.procs")).unwrap_or_default();
    text.split_whitespace().filter_map(|p| p.parse().ok()).collect()
}

/// rmdir with backoff: a cgroup stays busy for a moment after its last process is reaped.
/// `before_retry` runs before each retry (to kill stragglers). A missing directory is fine.
pub(crate) fn remove_dir(dir: &Path, mut before_retry: impl FnMut()) -> io::Result<()> {
    let mut delay = Duration::from_micros(200);
    let mut waited = Duration::ZERO;
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && waited < Duration::from_secs(5) => {
                before_retry();
                std::thread::sleep(delay);
                waited += delay;
                delay = (delay * 2).min(Duration::from_millis(100));
            }
            Err(e) => return Err(e),
        }
    }
}

/// The value of `key` in a flat keyed file ("key value" per line: memory.events, cpu.stat).
pub(crate) fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// A single-number file; "max" reads as `None`.
pub(crate) fn number(dir: &Path, file: &str) -> Option<u64> {
    read_small(&dir.join(file)).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_files_and_procs_parse() {
        assert_eq!(keyed("low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n", "oom_kill"), Some(2));
        assert_eq!(keyed("usage_usec 10\n", "user_usec"), None);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cgroup.procs"), "12\n34\n").unwrap();
        assert_eq!(procs(dir.path()), [12, 34]);
    }

    #[test]
    fn removing_a_missing_dir_is_fine_and_a_present_one_goes() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("g");
        std::fs::create_dir(&sub).unwrap();
        remove_dir(&sub, || {}).unwrap();
        assert!(!sub.exists());
        remove_dir(&sub, || {}).unwrap();
    }
}
