//! One sandbox's cgroup: created with its limits (before the clone on cgroup v2, while the
//! child sets up elsewhere), removed after the last process is gone (**parent**).

use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use super::controller::Controller;
use super::dir::{Dir, Version};
use super::error::CgroupError;
use super::error::{create_error, place_error, remove_error};
use super::fs;
use super::hold::ParentHold;
use super::io_weight::V1Weight;
use super::parent_dirs::copy_from_parent;
use super::plan::{CgroupPlan, Planned, MISSING_HINT};
use super::readback::{write_checked, FileWrite, WriteFailure};
use super::settings::Setting;

/// A sandbox's cgroup. Dropping it kills whatever still runs in it and removes its
/// directories, then lets go of their parents (`hold`).
#[derive(Debug)]
pub(crate) struct Cgroup {
    pub dirs: Vec<Dir>,
    /// Dropped after `dirs` are removed (see `Drop`).
    pub parents: ParentHold,
}

impl Cgroup {
    /// Creates each planned directory (see `planned_dirs`) in its parent, which `parents`
    /// holds prepared, and applies each limit, read back. On error, whatever was created is
    /// removed again. The sandbox keeps the parents from its first cgroup on.
    pub fn create(plan: &CgroupPlan, planned: Vec<Planned>, parents: ParentHold) -> Result<Cgroup, CgroupError> {
        let mut cgroup = Cgroup { dirs: Vec::new(), parents };
        for p in planned {
            create_below(&cgroup.parents, &p)?;
            cgroup.dirs.push(p.dir);
        }
        cgroup.inherit_v1_cpuset(plan)?;
        for setting in &plan.settings {
            cgroup.apply(setting, plan.page_size)?;
        }
        plan.hold.keep(&cgroup.parents);
        Ok(cgroup)
    }

    fn dir_for(&self, controller: Controller) -> Option<&Dir> {
        self.dirs.iter().find(|d| d.controllers.contains(&controller))
    }

    fn apply(&self, setting: &Setting, page: u64) -> Result<(), CgroupError> {
        let limit = setting.name();
        let controller = setting.controller();
        let dir = self.dir_for(controller).ok_or_else(|| CgroupError::ControllerMissing {
            controller: controller.v2_name(),
            parent: self.dirs.first().and_then(|d| d.path.parent()).map(Path::to_path_buf).unwrap_or_default(),
            hint: MISSING_HINT,
        })?;
        let writes = match dir.version {
            Version::V2 => setting.v2_writes(page),
            Version::V1 => setting.v1_writes(page, || V1Weight::probed(&dir.path)).ok_or(CgroupError::Unsupported {
                limit,
                version: "v1",
                reason: match setting {
                    Setting::IoWeight(_) => NO_V1_WEIGHT,
                    Setting::MemoryMin(_) | Setting::MemoryLow(_) => NO_V1_PROTECTION,
                    _ => "cgroup v1 has no such file; it needs cgroup v2",
                },
            })?,
        };
        for w in &writes {
            write_checked(&dir.path, w).map_err(|(path, failure)| write_error(limit, path, w, failure))?;
        }
        Ok(())
    }

    /// A v1 cpuset cgroup admits no task until cpus and mems are set: copy the parent's where
    /// the sandbox does not choose its own.
    fn inherit_v1_cpuset(&self, plan: &CgroupPlan) -> Result<(), CgroupError> {
        let Some(dir) =
            self.dirs.iter().find(|d| d.version == Version::V1 && d.controllers.contains(&Controller::Cpuset))
        else {
            return Ok(());
        };
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let chosen = plan.settings.iter().any(|s| {
                matches!((s, file), (Setting::CpusetCpus(_), "cpuset.cpus") | (Setting::CpusetMems(_), "cpuset.mems"))
            });
            if !chosen {
                copy_from_parent(&dir.path, file)?;
            }
        }
        Ok(())
    }

    /// Moves `pid` into every directory (v2 too, unless `skip_v2`: the clone put it there).
    pub fn add(&self, pid: i32, skip_v2: bool) -> Result<(), CgroupError> {
        for dir in self.dirs.iter().filter(|d| !(skip_v2 && d.version == Version::V2)) {
            let path = dir.path.join("cgroup.procs");
            fs::write_file(&path, &pid.to_string()).map_err(|source| place_error(path, Some(pid), source))?;
        }
        Ok(())
    }

    /// An fd of the v2 directory, for clone3's CLONE_INTO_CGROUP; only on a pure v2 host, where
    /// the clone alone places the child everywhere.
    pub fn v2_dir_fd(&self) -> Option<OwnedFd> {
        if self.dirs.len() != 1 || self.dirs[0].version != Version::V2 {
            return None;
        }
        std::fs::File::open(&self.dirs[0].path).ok().map(OwnedFd::from)
    }

    /// SIGKILLs every process in the cgroup: cgroup.kill on v2 (Linux 5.14), else each pid.
    pub fn kill_all(&self) {
        for dir in &self.dirs {
            if dir.version == Version::V2 && fs::write_file(&dir.path.join("cgroup.kill"), "1").is_ok() {
                continue;
            }
            kill_listed(&dir.path);
        }
    }

    /// Kills what is left and removes every directory, retrying while the kernel still holds
    /// them busy. After `wait` nothing is normally left (a pid namespace ends with its pid 1),
    /// so each rmdir is tried first and processes are only killed in a cgroup that is busy.
    pub fn remove(&mut self) -> Result<(), CgroupError> {
        self.dirs.retain(|d| !removed_now(&d.path));
        if self.dirs.is_empty() {
            return Ok(());
        }
        self.kill_all();
        // A directory that cannot be removed stays listed, so a later call (Drop) tries again,
        // and the others are still removed.
        let mut first_error = None;
        self.dirs.retain(|dir| match fs::remove_dir(&dir.path, || kill_listed(&dir.path)) {
            Ok(()) => false,
            Err(source) => {
                first_error.get_or_insert(remove_error(dir.path.clone(), source));
                true
            }
        });
        first_error.map_or(Ok(()), Err)
    }
}

/// mkdir of the sandbox's directory. A parent found gone was removed by another isobox
/// process between its preparation and now (its last user left): prepared again, a few times.
fn create_below(parents: &ParentHold, p: &Planned) -> Result<(), CgroupError> {
    let mut tries = 0;
    loop {
        match std::fs::create_dir(&p.dir.path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound && tries < 3 => {
                tries += 1;
                parents.prepare_again(&p.parent, p.dir.version)?;
            }
            Err(e) => return Err(create_error(&p.dir.path, e)),
        }
    }
}

pub(crate) fn removed_now(dir: &Path) -> bool {
    match std::fs::remove_dir(dir) {
        Ok(()) => true,
        Err(e) => e.kind() == io::ErrorKind::NotFound,
    }
}

/// SIGKILLs every process listed in `dir/cgroup.procs`.
pub(crate) fn kill_listed(dir: &Path) {
    for pid in fs::procs(dir) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        let _ = self.remove();
    }
}

const NO_V1_WEIGHT: &str = "this kernel has neither BFQ's blkio.bfq.weight nor CFQ's blkio.weight (CFQ is gone \
     since Linux 5.0): load BFQ (modprobe bfq) and make it the device's scheduler, or use cgroup v2";

/// Why memory min and low are refused on v1 rather than mapped to something weaker.
const NO_V1_PROTECTION: &str = "cgroup v1 has no memory protection (its memory.soft_limit_in_bytes is a soft cap, \
     not a guarantee); it needs the memory controller on cgroup v2";

fn write_error(limit: &'static str, path: PathBuf, w: &FileWrite, failure: WriteFailure) -> CgroupError {
    match failure {
        WriteFailure::Write(source) => {
            let hint = match source.raw_os_error() {
                Some(libc::ENOENT) => Some("the controller's file is missing: the kernel lacks this feature (for memory+swap on v1, boot with swapaccount=1; for io weight on v2, a kernel with blk-iocost; for a cpu max burst, Linux 5.14 or later)"),
                Some(libc::EINVAL) => Some("the kernel rejected the value"),
                Some(libc::EACCES | libc::EPERM) => Some("the caller does not own this cgroup"),
                _ => None,
            };
            CgroupError::Write { limit, path, value: w.value.clone(), source, hint }
        }
        WriteFailure::ReadBack(read) => CgroupError::ReadBack { limit, path, value: w.value.clone(), read },
        WriteFailure::Read(source) => CgroupError::Read { what: limit, path, source },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_that_cannot_be_removed_stays_listed_and_the_others_go() {
        let tmp = tempfile::tempdir().unwrap();
        let (stuck, empty) = (tmp.path().join("stuck"), tmp.path().join("empty"));
        std::fs::create_dir(&stuck).unwrap();
        std::fs::create_dir(&empty).unwrap();
        std::fs::write(stuck.join("file"), "").unwrap(); // rmdir fails with ENOTEMPTY
        let dir = |path: &Path| Dir { path: path.to_path_buf(), version: Version::V1, controllers: vec![] };
        let mut cgroup = Cgroup { dirs: vec![dir(&stuck), dir(&empty)], parents: ParentHold::default() };
        let err = cgroup.remove().unwrap_err();
        assert!(matches!(&err, CgroupError::Remove { path, .. } if *path == stuck), "{err}");
        assert!(err.to_string().contains("Hint: processes are left in it"), "{err}");
        assert!(!empty.exists());
        assert!(cgroup.dirs.len() == 1 && cgroup.dirs[0].path == stuck);
        std::fs::remove_file(stuck.join("file")).unwrap();
        cgroup.remove().unwrap();
        assert!(!stuck.exists() && cgroup.dirs.is_empty());
    }

    #[test]
    fn a_failed_move_names_the_process_and_the_likely_cause() {
        let tmp = tempfile::tempdir().unwrap();
        let gone = tmp.path().join("gone");
        let dir = Dir { path: gone.clone(), version: Version::V1, controllers: vec![] };
        let cgroup = Cgroup { dirs: vec![dir], parents: ParentHold::default() };
        let err = cgroup.add(4242, false).unwrap_err();
        let CgroupError::Place { path, pid, hint, .. } = &err else { panic!("{err}") };
        assert_eq!((path, *pid), (&gone.join("cgroup.procs"), Some(4242)));
        assert!(hint.unwrap().contains("removed meanwhile"), "{err}");
        assert!(err.to_string().starts_with("moving process 4242 into"), "{err}");
        let denied = place_error(gone.clone(), None, io::Error::from_raw_os_error(libc::EACCES));
        assert!(denied.to_string().contains("common ancestor"), "{denied}");
        let busy = place_error(gone, Some(1), io::Error::from_raw_os_error(libc::EBUSY));
        assert!(busy.to_string().contains("no-internal-process"), "{busy}");
        std::mem::forget(cgroup); // not a real cgroup: nothing to remove
    }
}
