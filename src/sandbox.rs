//! `Sandbox` (**parent**): a validated, immutable configuration to spawn from.

#[cfg(feature = "tokio")]
use std::future::Future;
use std::sync::Arc;

#[cfg(feature = "tokio")]
use crate::asyncio::{child::AsyncChild, start};
use crate::build::SandboxPlan;
use crate::command::Command;
use crate::error::Error;
use crate::held::HeldChild;
use crate::image::run::{command::image_command, error::ImageRunError};
use crate::namespaces::Namespaces;
use crate::pool::SandboxPool;
use crate::spawn::{self, exit_report::ExitReport, exit_report::Output, handle::Child, stdio::StdioDefaults};

/// A validated, immutable sandbox configuration. Spawn from it as often as you like, from
/// any number of threads. Cloning it is cheap (the compiled plan is shared).
#[derive(Debug, Clone)]
pub struct Sandbox {
    plan: Arc<SandboxPlan>,
}

impl Sandbox {
    pub(crate) fn from_plan(plan: SandboxPlan) -> Sandbox {
        Sandbox { plan: Arc::new(plan) }
    }

    /// The namespaces each spawn gets.
    #[must_use]
    pub fn namespaces(&self) -> Namespaces {
        self.plan.namespaces
    }

    /// The Landlock ABI the sandbox's ruleset is made for, which the kernel supports: the
    /// kernel's, or [`Landlock::NEWEST_ABI`](crate::Landlock::NEWEST_ABI) on a
    /// newer kernel. `None` without Landlock (feature `landlock`).
    #[cfg(feature = "landlock")]
    #[must_use]
    pub fn landlock_abi(&self) -> Option<u32> {
        self.plan.child.landlock.as_ref().map(|l| l.abi)
    }

    /// The command the image of [`SandboxBuilder::image`](crate::SandboxBuilder::image) says to
    /// run: its Entrypoint followed by its Cmd (`docker run IMAGE`). Spawned here, it gets the
    /// image's Env, WorkingDir and User as any command does; set more on it before spawning.
    pub fn image_command(&self) -> Result<Command, ImageRunError> {
        image_command(self.plan.image.as_ref(), None)
    }

    /// The image's Entrypoint followed by `args` in place of its Cmd (`docker run IMAGE
    /// ARGS…`); without an Entrypoint the first of `args` is the program.
    pub fn image_command_with<I, S>(&self, args: I) -> Result<Command, ImageRunError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let args = args.into_iter().map(|a| a.as_ref().to_os_string()).collect();
        image_command(self.plan.image.as_ref(), Some(args))
    }

    /// Runs `cmd` in a new sandbox. Returns once the program has been executed; a failure on
    /// the way (in the parent or in the child's setup) is a typed error and leaves nothing
    /// running. Unset stdio is inherited. [`Child::exec`] runs more commands in it.
    pub fn spawn(&self, cmd: &Command) -> Result<Child, Error> {
        spawn::spawn(&self.plan, cmd, StdioDefaults::SPAWN).map(|child| child.with_plan(Arc::clone(&self.plan)))
    }

    /// Runs `cmd` to completion, collecting its output (stdout and stderr piped and stdin null
    /// unless the command sets them).
    pub fn output(&self, cmd: &Command) -> Result<Output, Error> {
        spawn::spawn(&self.plan, cmd, StdioDefaults::OUTPUT)?.wait_with_output()
    }

    /// A pool of `size` sandboxes of this one, set up ahead and waiting for commands (see
    /// [`SandboxPool`] for what it costs and what a pooled command may not do). Filled before
    /// this returns; the first failure of that is the error.
    pub fn pool(&self, size: usize) -> Result<SandboxPool, Error> {
        SandboxPool::new(Arc::clone(&self.plan), size)
    }

    /// Spawns `cmd` held just before its exec: returns once the sandbox is set up and the
    /// program's descriptors and working directory are in place; the program is executed once
    /// a byte can be read from `gate` (a pipe's or FIFO's read end, say). Unset stdio is
    /// inherited, as in [`Sandbox::spawn`].
    ///
    /// The program waits in isobox's waiter, under the sandbox's seccomp filter, which must
    /// allow what the waiter does (a pool's calls, and `write`, `read` and `close_range` on
    /// its descriptors; the default profile does). [`HeldChild::started`] waits for the exec;
    /// [`HeldChild::detach`] leaves the sandbox waiting after this process has exited, for
    /// another process to open the gate (an OCI runtime's `create` and `start`).
    ///
    /// ```no_run
    /// use isobox::{Command, Sandbox};
    ///
    /// let (gate, opener) = nix::unistd::pipe()?;
    /// let sandbox = Sandbox::builder().build()?;
    /// let held = sandbox.spawn_held(&Command::new("true"), gate)?;
    /// println!("set up as pid {}, not started yet", held.id());
    /// nix::unistd::write(&opener, b"x")?;
    /// let status = held.started()?.wait()?;
    /// assert!(status.success());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn_held(&self, cmd: &Command, gate: std::os::fd::OwnedFd) -> Result<HeldChild, Error> {
        crate::held::spawn(&self.plan, cmd, gate)
    }

    /// Runs `cmd` to completion (stdio inherited unless set) and returns its exit report.
    pub fn status(&self, cmd: &Command) -> Result<ExitReport, Error> {
        self.spawn(cmd)?.wait()
    }

    /// [`Sandbox::spawn`] for tokio (feature `tokio`): the spawn runs on a thread isobox owns,
    /// and the child's wait, kill and stdio are async ([`AsyncChild`](crate::tokio::AsyncChild)).
    /// The command is copied when this is called (its descriptors duplicated), so the future
    /// borrows nothing. Await it inside a tokio runtime with IO (and, for `wait_timeout`, time)
    /// enabled.
    #[cfg(feature = "tokio")]
    pub fn spawn_async(&self, cmd: &Command) -> impl Future<Output = Result<AsyncChild, Error>> + Send + 'static {
        start::spawn_async(Arc::clone(&self.plan), cmd, StdioDefaults::SPAWN)
    }

    /// [`Sandbox::output`] for tokio (feature `tokio`): stdout and stderr piped and stdin null
    /// unless the command sets them, read concurrently until the program exits.
    #[cfg(feature = "tokio")]
    pub fn output_async(&self, cmd: &Command) -> impl Future<Output = Result<Output, Error>> + Send + 'static {
        let child = start::spawn_async(Arc::clone(&self.plan), cmd, StdioDefaults::OUTPUT);
        async move { child.await?.wait_with_output().await }
    }
}
