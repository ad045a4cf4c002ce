//! `create --bundle B [--pid-file F] [--preserve-fds N] ID`: the container set up to its
//! program's exec and held there at `exec.fifo`, outliving this process; `start` releases it.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use isobox::Detached;
use nix::sys::stat::Mode;

use crate::cli::{self, flag, FlagSpec, Global};
use crate::error::OciError;
use crate::map;
use crate::spec::Spec;
use crate::state::{self, Record, FIFO};

const FLAGS: &[FlagSpec] = &[
    flag(&["bundle", "b"], true),
    flag(&["pid-file"], true),
    flag(&["console-socket"], true),
    flag(&["preserve-fds"], true),
    flag(&["no-pivot"], false),
    flag(&["no-new-keyring"], false),
];

pub fn run(g: &Global, args: &[String]) -> Result<(), OciError> {
    let p = cli::parse(args, FLAGS)?;
    let id = p.id("create")?.to_string();
    if p.is_set("no-pivot") {
        return Err(OciError::Usage("create --no-pivot: isobox always pivots into the root".into()));
    }
    let bundle = bundle_dir(p.value("bundle"))?;
    let spec = read_spec(&bundle)?;
    let mapped = map::map(&spec, &bundle)?;
    let preserve = match p.value("preserve-fds") {
        Some(n) => n.parse::<i32>().map_err(|_| OciError::Usage(format!("--preserve-fds {n:?}: a number")))?,
        None => 0,
    };
    let dir = state::claim(&g.root, &id)?;
    let created = Creation { id: &id, dir: &dir, bundle: &bundle, spec: &spec, preserve };
    match created.run(mapped, p.value("pid-file").map(Path::new)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            Err(e)
        }
    }
}

struct Creation<'a> {
    id: &'a str,
    dir: &'a Path,
    bundle: &'a Path,
    spec: &'a Spec,
    preserve: i32,
}

impl Creation<'_> {
    fn run(&self, mapped: map::Mapped, pid_file: Option<&Path>) -> Result<(), OciError> {
        let sandbox = mapped.builder.build().map_err(OciError::sandbox("checking the container's configuration"))?;
        if self.preserve > 0 {
            return Err(OciError::Usage("create --preserve-fds: not supported by isobox-oci yet".into()));
        }
        if let Some(mask) = mapped.umask {
            nix::sys::stat::umask(Mode::from_bits_truncate(mask));
        }
        let gate = self.gate()?;
        let held = sandbox.spawn_held(&mapped.command, gate).map_err(OciError::sandbox("setting the container up"))?;
        let detached = held.detach().map_err(OciError::sandbox("leaving the container held"))?;
        self.record(&detached, &mapped.rootfs, mapped.oom_score_adj, pid_file).inspect_err(|_| end(&detached))
    }

    /// `exec.fifo`, opened read-write so that the open does not wait for `start`, and `start`'s
    /// non-blocking open for writing finds a reader exactly while the container waits.
    fn gate(&self) -> Result<OwnedFd, OciError> {
        let path = self.dir.join(FIFO);
        nix::unistd::mkfifo(&path, Mode::S_IRUSR | Mode::S_IWUSR)
            .map_err(|e| OciError::io("making the start gate", &path)(e.into()))?;
        // std opens close-on-exec; the library hands the container its own copy.
        let file = std::fs::OpenOptions::new().read(true).write(true).open(&path);
        Ok(file.map_err(OciError::io("opening the start gate", &path))?.into())
    }

    fn record(
        &self,
        detached: &Detached,
        rootfs: &Path,
        oom_score_adj: Option<i32>,
        pid_file: Option<&Path>,
    ) -> Result<(), OciError> {
        let pid = detached.pid() as i32;
        if let Some(adj) = oom_score_adj {
            let path = format!("/proc/{pid}/oom_score_adj");
            std::fs::write(&path, adj.to_string()).map_err(OciError::io("setting process.oomScoreAdj", path))?;
        }
        let (_, pid_start) = state::stat_of(pid).ok_or_else(|| OciError::State {
            id: self.id.to_string(),
            status: "stopped",
            what: "its process exited during create",
        })?;
        let record = Record {
            id: self.id.to_string(),
            pid,
            pid_start,
            bundle: self.bundle.to_path_buf(),
            rootfs: rootfs.to_path_buf(),
            created: state::now_rfc3339(),
            annotations: self.spec.annotations.clone(),
            cgroup_dirs: detached.cgroup_dirs().to_vec(),
            cgroup_parents_made: detached.cgroup_parents_made().to_vec(),
            hooks: self.spec.hooks.clone().unwrap_or_default(),
        };
        state::write(self.dir, &record)?;
        let created = state::spec_state(&record, state::Status::Created).to_string();
        crate::hooks::run(&record.hooks.prestart, &created, "prestart")?;
        crate::hooks::run(&record.hooks.create_runtime, &created, "createRuntime")?;
        if let Some(path) = pid_file {
            state::write_atomic(path, pid.to_string().as_bytes())?;
        }
        Ok(())
    }
}

/// Ends a container whose create failed after it was left running.
fn end(detached: &Detached) {
    let pid = nix::unistd::Pid::from_raw(detached.pid() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    let _ = nix::sys::wait::waitpid(pid, None); // this process is still its parent
    let _ = detached.remove_cgroups();
}

/// The bundle's absolute path (the current directory by default).
fn bundle_dir(given: Option<&str>) -> Result<PathBuf, OciError> {
    let path = PathBuf::from(given.unwrap_or("."));
    std::fs::canonicalize(&path).map_err(OciError::io("finding the bundle", path))
}

fn read_spec(bundle: &Path) -> Result<Spec, OciError> {
    let path = bundle.join("config.json");
    let text = std::fs::read(&path).map_err(OciError::io("reading", &path))?;
    serde_json::from_slice(&text).map_err(|e| OciError::Config { path, why: e.to_string() })
}
