//! The containers' state: `<root>/<id>/` holds `state.json` and, until `start`, `exec.fifo`,
//! the gate the held container waits at. The directory's creation is what claims an id; a
//! lock on it (flock) orders the commands acting on one container.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use crate::error::OciError;

/// The runtime-spec version this runtime reports.
pub const OCI_VERSION: &str = "1.2.0";

/// What `create` records of a container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    /// The container's first process on the host.
    pub pid: i32,
    /// Its start time (`/proc/<pid>/stat` field 22), telling it from a later process with
    /// the same pid.
    pub pid_start: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    /// RFC 3339, UTC.
    pub created: String,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// The container's cgroup directories, removed by `delete`.
    #[serde(default)]
    pub cgroup_dirs: Vec<PathBuf>,
    /// The parents `create` made for them, topmost first: `delete` removes those left empty.
    #[serde(default)]
    pub cgroup_parents_made: Vec<PathBuf>,
    /// The config's hooks, for `start` (poststart) and `delete` (poststop).
    #[serde(default)]
    pub hooks: crate::spec::Hooks,
}

/// runtime-spec's states (`paused` is not made by this runtime).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Set up and held before its program's exec.
    Created,
    /// Its program runs.
    Running,
    /// Its first process has exited.
    Stopped,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Stopped => "stopped",
        }
    }
}

/// One container's state directory, locked while a command acts on it.
pub struct Container {
    pub dir: PathBuf,
    pub record: Record,
    _lock: Flock<File>,
}

/// Checks an id as runc does: it names a directory, so no '/', no "..", nothing hidden.
pub fn check_id(id: &str) -> Result<(), OciError> {
    let ok = !id.is_empty()
        && id.len() <= 1024
        && !id.starts_with('.')
        && id.chars().all(|c| c.is_ascii_alphanumeric() || "._+:-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(OciError::BadId(id.to_string()))
    }
}

/// The state directory of `id` under `root`.
pub fn dir_of(root: &Path, id: &str) -> Result<PathBuf, OciError> {
    check_id(id)?;
    Ok(root.join(id))
}

/// Claims `id`: creates its state directory (0700), failing if it exists.
pub fn claim(root: &Path, id: &str) -> Result<PathBuf, OciError> {
    let dir = dir_of(root, id)?;
    std::fs::create_dir_all(root).map_err(OciError::io("creating the state root", root))?;
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => Ok(dir),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(OciError::Exists { id: id.to_string() }),
        Err(e) => Err(OciError::io("creating the container's state directory", &dir)(e)),
    }
}

/// Opens and locks the state of `id`.
pub fn open(root: &Path, id: &str) -> Result<Container, OciError> {
    let dir = dir_of(root, id)?;
    let handle = match File::open(&dir) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(OciError::NotFound { id: id.to_string(), root: root.to_path_buf() })
        }
        Err(e) => return Err(OciError::io("opening the container's state directory", &dir)(e)),
    };
    let lock = Flock::lock(handle, FlockArg::LockExclusive)
        .map_err(|(_, errno)| OciError::io("locking the container's state", &dir)(errno.into()))?;
    let path = dir.join("state.json");
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        // Claimed by a create that has not finished (or died before writing it).
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(OciError::NotFound { id: id.to_string(), root: root.to_path_buf() })
        }
        Err(e) => return Err(OciError::io("reading", &path)(e)),
    };
    let record = serde_json::from_slice(&text).map_err(|e| OciError::Config {
        path: path.clone(),
        why: format!("a state file isobox-oci cannot read: {e}"),
    })?;
    Ok(Container { dir, record, _lock: lock })
}

/// Writes `record` as `dir/state.json`, whole or not at all (a temporary file renamed).
pub fn write(dir: &Path, record: &Record) -> Result<(), OciError> {
    let json = serde_json::to_vec_pretty(record).expect("a record serializes");
    write_atomic(&dir.join("state.json"), &json)
}

/// Writes `bytes` to `path` through a temporary file beside it, renamed over it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OciError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.{}", std::process::id()));
    let written = File::create(&tmp).and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()));
    written.map_err(OciError::io("writing", &tmp))?;
    std::fs::rename(&tmp, path).map_err(OciError::io("renaming into place", path))
}

impl Container {
    /// The container's status now.
    pub fn status(&self) -> Status {
        if !process_is(self.record.pid, self.record.pid_start) {
            Status::Stopped
        } else if self.fifo().exists() {
            Status::Created
        } else {
            Status::Running
        }
    }

    /// The gate the held container waits at.
    pub fn fifo(&self) -> PathBuf {
        self.dir.join(FIFO)
    }
}

/// The state as runtime-spec lays it out (with runc's `rootfs`, `created` and `owner`): what
/// `state` prints and each hook reads on stdin.
pub fn spec_state(r: &Record, status: Status) -> serde_json::Value {
    let pid = if status == Status::Stopped { 0 } else { r.pid };
    serde_json::json!({
        "ociVersion": OCI_VERSION,
        "id": r.id,
        "status": status.name(),
        "pid": pid,
        "bundle": r.bundle,
        "rootfs": r.rootfs,
        "created": r.created,
        "owner": "",
        "annotations": r.annotations,
    })
}

/// Every process listed in the container's cgroups (none without a cgroup), ascending.
pub fn cgroup_pids(r: &Record) -> Vec<i32> {
    let mut pids: Vec<i32> = Vec::new();
    for dir in &r.cgroup_dirs {
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
        pids.extend(procs.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
    }
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// The gate's name in the state directory.
pub const FIFO: &str = "exec.fifo";

/// Whether `pid` is alive (not a zombie) and started at `start`.
pub fn process_is(pid: i32, start: u64) -> bool {
    matches!(stat_of(pid), Some((state, s)) if s == start && state != 'Z' && state != 'X')
}

/// `pid`'s state letter and start time, from `/proc/<pid>/stat`.
pub fn stat_of(pid: i32) -> Option<(char, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    // Field 3 is the state; the start time is field 22, the 19th after it.
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// The time now, RFC 3339 in UTC with nanoseconds (runc's `created`).
pub fn now_rfc3339() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}Z", rem / 3600, rem % 3600 / 60, rem % 60, now.subsec_nanos())
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_could_leave_the_state_root_are_refused() {
        for bad in ["", "..", "../x", "a/b", ".hidden", "a b", "x\0"] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
        for good in ["a", "test-1", "k8s_pod:abc+1.2"] {
            assert!(check_id(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn dates_are_civil() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
    }

    #[test]
    fn this_process_is_itself_and_not_with_another_start_time() {
        let pid = std::process::id() as i32;
        let (state, start) = stat_of(pid).unwrap();
        assert_ne!(state, 'Z');
        assert!(process_is(pid, start));
        assert!(!process_is(pid, start + 1));
    }
}
