//! `Sandbox::spawn_async` (**parent**): copy the command, run the synchronous spawn on the
//! spawner thread, and wrap the `Child` it returns on the runtime's side.

use std::future::Future;
use std::io;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;

use tokio::sync::oneshot;

use super::child::AsyncChild;
use super::worker::{reap_later, Job, SPAWNER};
use crate::build::SandboxPlan;
use crate::command::{Command, Stdio};
use crate::error::{Error, SpawnError};
use crate::spawn::{self, handle::Child, stdio::StdioDefaults};

type Spawned = std::thread::Result<Result<Child, Error>>;

/// Copies `cmd` now (so the future borrows nothing) and returns the future that spawns it on
/// the spawner thread. Nothing is spawned until the future is polled. Dropped after the job
/// was queued, the future's child (if the spawn succeeds anyway) goes to the reaper.
pub(crate) fn spawn_async(
    plan: Arc<SandboxPlan>,
    cmd: &Command,
    defaults: StdioDefaults,
) -> impl Future<Output = Result<AsyncChild, Error>> + Send + 'static {
    let copied = copy_command(cmd);
    async move {
        let cmd = copied.map_err(SpawnError::io("copying the command's descriptors for the spawner thread"))?;
        let (tx, rx) = oneshot::channel::<Spawned>();
        let job: Job = Box::new(move || {
            if tx.is_closed() {
                return; // dropped while queued: nothing to spawn
            }
            let spawned = catch_unwind(AssertUnwindSafe(|| {
                spawn::spawn(&plan, &cmd, defaults).map(|child| child.with_plan(std::sync::Arc::clone(&plan)))
            }));
            if let Err(Ok(Ok(child))) = tx.send(spawned) {
                reap_later(child); // the caller's future was dropped meanwhile
            }
        });
        SPAWNER.send(job).map_err(|(_, e)| SpawnError::io("starting isobox's spawner thread")(e))?;
        match rx.await {
            Ok(Ok(spawned)) => AsyncChild::new(spawned?),
            // The spawn panicked: go on panicking in the caller, as `Sandbox::spawn` would.
            Ok(Err(panic)) => resume_unwind(panic),
            Err(_) => {
                Err(SpawnError::io("waiting for isobox's spawner thread")(io::Error::other("job dropped")).into())
            }
        }
    }
}

/// The command with each descriptor it holds duplicated (the spawner thread's copy, closed
/// once the spawn is over; the caller keeps `cmd` and may spawn it again).
fn copy_command(cmd: &Command) -> io::Result<Command> {
    let fds = cmd.fds.iter().map(|(target, fd)| Ok((*target, fd.try_clone()?))).collect::<io::Result<_>>()?;
    Ok(Command {
        program: cmd.program.clone(),
        args: cmd.args.clone(),
        inherit_env: cmd.inherit_env,
        env_cleared: cmd.env_cleared,
        env: cmd.env.clone(),
        cwd: cmd.cwd.clone(),
        stdin: copy_stdio(&cmd.stdin)?,
        stdout: copy_stdio(&cmd.stdout)?,
        stderr: copy_stdio(&cmd.stderr)?,
        fds,
        uid: cmd.uid,
        gid: cmd.gid,
        groups: cmd.groups.clone(),
    })
}

fn copy_stdio(stdio: &Option<Stdio>) -> io::Result<Option<Stdio>> {
    Ok(match stdio {
        None => None,
        Some(Stdio::Inherit) => Some(Stdio::Inherit),
        Some(Stdio::Null) => Some(Stdio::Null),
        Some(Stdio::Piped) => Some(Stdio::Piped),
        Some(Stdio::Fd(fd)) => Some(Stdio::Fd(fd.try_clone()?)),
    })
}

#[cfg(test)]
mod tests {
    use std::os::fd::{AsRawFd, OwnedFd};

    use super::*;

    #[test]
    fn the_copy_has_everything_and_descriptors_of_its_own() {
        let file: OwnedFd = std::fs::File::open("/dev/null").unwrap().into();
        let mut cmd = Command::new("prog");
        cmd.args(["a", "b"]).env("K", "V").current_dir("/w").uid(5).gid(6).groups(&[7]);
        cmd.stdin(Stdio::piped()).stdout(file.try_clone().unwrap()).pass_fd(9, file.try_clone().unwrap());
        let copy = copy_command(&cmd).unwrap();
        assert_eq!(
            format!("{:?}", (&copy.program, &copy.args, &copy.env, &copy.cwd)),
            format!("{:?}", (&cmd.program, &cmd.args, &cmd.env, &cmd.cwd))
        );
        assert_eq!((copy.uid, copy.gid, copy.groups.clone()), (Some(5), Some(6), Some(vec![7])));
        assert!(matches!(copy.stdin, Some(Stdio::Piped)) && copy.stderr.is_none());
        let (Some(Stdio::Fd(a)), Some(Stdio::Fd(b))) = (&copy.stdout, &cmd.stdout) else { panic!("stdout lost") };
        assert_ne!(a.as_raw_fd(), b.as_raw_fd());
        assert_eq!(copy.fds.len(), 1);
        assert_eq!(copy.fds[0].0, 9);
        assert_ne!(copy.fds[0].1.as_raw_fd(), cmd.fds[0].1.as_raw_fd());
    }
}
