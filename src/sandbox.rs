//! `Sandbox::spawn` (**parent**): one screen from a prepared command to a running `Child`.

use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use nix::fcntl::OFlag;
use nix::unistd::Pid;

use crate::cgroup;
use crate::cgroup::group::{planned_dirs, Cgroup, CgroupPlan, Dir};
use crate::cgroup::join::{self, JoinFile};
use crate::child::{self, ChildPlan};
use crate::child_handle::{Child, Output};
use crate::config::Config;
use crate::error::{clone_hint, SetupError, SpawnError};
use crate::prepare::{self, Prepared, StdioDefaults};
use crate::report::{Record, Step};
use crate::sys::vmclone::{self, ControlPipes, ParentSteps, SpawnFailure};
use crate::{idmap, Command, Error, ExitReport, Namespaces, SandboxBuilder};

/// Numbers each sandbox cgroup this process creates, for unique names.
static NEXT_CGROUP: AtomicU64 = AtomicU64::new(0);

/// A sandbox cgroup about to be made: one directory per hierarchy, each below its parent.
struct CgroupTarget<'a> {
    plan: &'a CgroupPlan,
    planned: Vec<(PathBuf, Dir)>,
}

/// The sandbox's cgroup as one spawn handles it.
struct CgroupSteps<'a> {
    /// Made before the clone (pure cgroup v2).
    early: Option<Cgroup>,
    /// Made while the child sets up (cgroup v1 or hybrid); the child joins it through `join`.
    late: Option<CgroupTarget<'a>>,
    join: Vec<JoinFile>,
}

impl CgroupTarget<'_> {
    /// Makes the cgroup, every limit written and read back.
    fn create(self) -> Result<Cgroup, crate::error::CgroupError> {
        Cgroup::create(self.plan, self.planned)
    }
}

/// A validated, immutable sandbox configuration. Spawn from it as often as you like, from
/// any number of threads.
#[derive(Debug, Clone)]
pub struct Sandbox {
    config: Config,
}

impl Sandbox {
    /// Starts a configuration: no namespaces, no mounts, the defaults listed on each setter.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    pub(crate) fn from_config(config: Config) -> Sandbox {
        Sandbox { config }
    }

    /// The namespaces each spawn gets.
    pub fn namespaces(&self) -> Namespaces {
        self.config.namespaces
    }

    /// Runs `cmd` in a new sandbox. Returns once the program has been executed; a failure on
    /// the way (in the parent or in the child's setup) is a typed error and leaves nothing
    /// running. Unset stdio is inherited.
    pub fn spawn(&self, cmd: &Command) -> Result<Child, Error> {
        self.spawn_with(cmd, StdioDefaults::SPAWN)
    }

    /// Runs `cmd` to completion, collecting its output (stdout and stderr piped and stdin null
    /// unless the command sets them).
    pub fn output(&self, cmd: &Command) -> Result<Output, Error> {
        self.spawn_with(cmd, StdioDefaults::OUTPUT)?.wait_with_output()
    }

    /// Runs `cmd` to completion (stdio inherited unless set) and returns its exit report.
    pub fn status(&self, cmd: &Command) -> Result<ExitReport, Error> {
        self.spawn(cmd)?.wait()
    }

    fn spawn_with(&self, cmd: &Command, defaults: StdioDefaults) -> Result<Child, Error> {
        let mut prepared = prepare::prepare(cmd, &self.config, defaults)?;
        let CgroupSteps { early, mut late, join } = self.cgroup_steps()?;
        let cgroup_fd = early.as_ref().and_then(Cgroup::v2_dir_fd);
        let (pipes, go_read) = control_pipes(&prepared)?;
        let second_release = late.is_some();
        let plan = self.child_plan(&prepared, &pipes, go_read.as_raw_fd(), second_release, &join);
        let flags = self.config.namespaces.clone_flags();
        let started = Instant::now();
        let mut late_cgroup = None;
        let spawned = {
            let mut before = |pid, born_in_cgroup| self.place(pid, born_in_cgroup, early.as_ref());
            let mut during = |_: Pid| -> Result<(), Error> {
                late_cgroup = late.take().map(CgroupTarget::create).transpose()?;
                Ok(())
            };
            let during: Option<&mut dyn FnMut(Pid) -> Result<(), Error>> =
                if second_release { Some(&mut during) } else { None };
            let steps = ParentSteps { before_release: &mut before, while_running: during };
            let cgroup_fd = cgroup_fd.as_ref().map(|f| f.as_fd());
            vmclone::spawn_shared(flags, true, &plan, child::main, pipes, cgroup_fd, steps)
                .map_err(|failure| self.spawn_failure(failure))?
        };
        drop(go_read);
        prepared.child_ends.clear(); // the child has its copies (or is gone)
        let cgroup = early.or(late_cgroup);
        let child = Child::new(spawned.pid, spawned.pidfd, &mut prepared.parent_ends, started, cgroup);
        spawned.prepared?;
        if spawned.report.is_empty() {
            return Ok(child);
        }
        drop(child); // reaps the child, which has exited after writing its report
        Err(self.setup_failure(&spawned.report, &prepared, &join))
    }

    /// When the sandbox's cgroup is made. On cgroup v2 the child is born in its cgroup, which
    /// must exist first. Elsewhere it is made while the child sets itself up, and the child
    /// then joins it itself (`cgroup::join`): the parent moving it would wait for an RCU grace
    /// period in the kernel.
    fn cgroup_steps(&self) -> Result<CgroupSteps<'_>, Error> {
        let none = CgroupSteps { early: None, late: None, join: Vec::new() };
        let Some(target) = self.cgroup_target()? else { return Ok(none) };
        if target.plan.layout.is_pure_v2() {
            return Ok(CgroupSteps { early: Some(target.create()?), ..none });
        }
        let join = join::prepare(&target.planned)?;
        Ok(CgroupSteps { late: Some(target), join, ..none })
    }

    /// Where the sandbox's cgroup goes (a unique name in each hierarchy), if any limit was
    /// asked for.
    fn cgroup_target(&self) -> Result<Option<CgroupTarget<'_>>, Error> {
        let Some(plan) = &self.config.cgroup else { return Ok(None) };
        let parent = cgroup::parent::resolve(plan.parent.as_deref(), &plan.layout, self.config.caller.is_root())?;
        let name = format!("isobox-{}-{}", std::process::id(), NEXT_CGROUP.fetch_add(1, Ordering::Relaxed));
        let planned = planned_dirs(plan, &parent, &name)?;
        Ok(Some(CgroupTarget { plan, planned }))
    }

    /// The parent's part while the child waits: into its cgroup first (unless it was born
    /// there), so nothing of the sandbox ever runs outside it; then the id maps.
    fn place(&self, pid: Pid, born_in_cgroup: bool, cgroup: Option<&Cgroup>) -> Result<(), Error> {
        if let Some(cgroup) = cgroup {
            cgroup.add(pid.as_raw(), born_in_cgroup)?;
        }
        if let Some(maps) = &self.config.maps {
            idmap::write_maps(maps, pid)?;
        }
        Ok(())
    }

    fn child_plan<'a>(
        &'a self,
        p: &'a Prepared,
        pipes: &ControlPipes,
        go_read: RawFd,
        second_release: bool,
        cgroup_join: &'a [JoinFile],
    ) -> ChildPlan<'a> {
        let c = &self.config;
        let control =
            [go_read, pipes.go_write.as_raw_fd(), pipes.report_read.as_raw_fd(), pipes.report_write.as_raw_fd()];
        let highest = p.fd_moves.iter().flat_map(|(s, d)| [*s, *d]).chain(control).max().unwrap_or(2);
        ChildPlan {
            go_read,
            go_write: pipes.go_write.as_raw_fd(),
            report_read: pipes.report_read.as_raw_fd(),
            report_write: pipes.report_write.as_raw_fd(),
            die_with_parent: c.die_with_parent,
            unshare_time: c.namespaces.time_flag(),
            unshare_cgroup: c.namespaces.cgroup_flag(),
            second_release,
            cgroup_join,
            time_offsets: c.time_offsets.as_deref(),
            mounts: &c.plan.ops,
            hostname: c.hostname.as_deref(),
            domainname: c.domainname.as_deref(),
            loopback: c.namespaces.contains(Namespaces::NET),
            rlimits: &c.rlimits,
            groups: p.ids.groups.as_deref(),
            gid: p.ids.gid,
            uid: p.ids.uid,
            no_new_privs: c.no_new_privs,
            fd_moves: &p.fd_moves,
            fd_scratch: highest + 1,
            cwd: p.cwd.as_deref(),
            candidates: &p.candidates,
            argv: &p.argv,
            envp: &p.envp,
        }
    }

    fn spawn_failure(&self, failure: SpawnFailure) -> Error {
        let ns = self.config.namespaces;
        match failure {
            SpawnFailure::Clone(e) => {
                let errno = nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0));
                let hint = clone_hint(errno, ns, self.config.caller.is_root());
                SpawnError::Clone { namespaces: ns, errno, hint }.into()
            }
            SpawnFailure::Stack(e) => SpawnError::io("mapping the child's stack")(e).into(),
            SpawnFailure::Control(e) => SpawnError::io("talking to the child over its control pipes")(e).into(),
        }
    }

    fn setup_failure(&self, report: &[u8], p: &Prepared, join: &[JoinFile]) -> Error {
        let Some(rec) = Record::decode(report) else {
            return SpawnError::MalformedReport { len: report.len() }.into();
        };
        if rec.step == Step::Exec && matches!(rec.errno, nix::errno::Errno::ENOENT | nix::errno::Errno::ENOTDIR) {
            let searched = p.candidates.iter().map(|c| c.to_string_lossy()).collect::<Vec<_>>().join(", ");
            let program = p.argv.iter().next().map(|a| a.to_string_lossy().into_owned()).unwrap_or_default();
            return Error::ProgramNotFound { program, searched };
        }
        let (object, hint) = crate::describe::describe(&rec, &self.config, p, join);
        SetupError { step: rec.step, object, errno: rec.errno, hint }.into()
    }
}

/// The go and report pipes, close-on-exec. The report pipe's write end is moved above every
/// descriptor target so that arranging the child's descriptors cannot overwrite it.
fn control_pipes(p: &Prepared) -> Result<(ControlPipes, OwnedFd), SpawnError> {
    let pipe = || nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| SpawnError::io("creating a control pipe")(e.into()));
    let (go_read, go_write) = pipe()?;
    let (report_read, mut report_write) = pipe()?;
    let top_target = p.fd_moves.iter().map(|(_, dst)| *dst).max().unwrap_or(2);
    if report_write.as_raw_fd() <= top_target {
        report_write = crate::sys::fd::dup_at_or_above(report_write.as_fd(), top_target + 1)
            .map_err(SpawnError::io("moving the report pipe"))?;
    }
    Ok((ControlPipes { go_write, report_read, report_write }, go_read))
}
