//! What to run inside a sandbox, like `std::process::Command` (**parent**: plain data; nothing
//! touches the OS until `Sandbox::spawn`).

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::fd::{OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// The PATH a sandboxed program gets unless the environment is cleared or PATH is set.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where a standard stream of the sandboxed program goes.
#[derive(Debug, Default)]
#[non_exhaustive]
pub enum Stdio {
    /// The parent's own stream.
    #[default]
    Inherit,
    /// /dev/null.
    Null,
    /// A new pipe, available as `Child::stdin`/`stdout`/`stderr`.
    Piped,
    /// A descriptor of the caller's (the command keeps it and may be spawned again).
    Fd(OwnedFd),
}

impl Stdio {
    /// The parent's own stream.
    #[must_use]
    pub fn inherit() -> Stdio {
        Stdio::Inherit
    }
    /// /dev/null.
    #[must_use]
    pub fn null() -> Stdio {
        Stdio::Null
    }
    /// A new pipe, available on the `Child`.
    #[must_use]
    pub fn piped() -> Stdio {
        Stdio::Piped
    }
}

impl From<OwnedFd> for Stdio {
    fn from(fd: OwnedFd) -> Stdio {
        Stdio::Fd(fd)
    }
}

impl From<std::fs::File> for Stdio {
    fn from(file: std::fs::File) -> Stdio {
        Stdio::Fd(file.into())
    }
}

/// A program, its arguments and environment, and what it runs as, for `Sandbox::spawn`.
///
/// The environment starts empty apart from `PATH=`[`DEFAULT_PATH`], so the host's variables
/// (and any secrets in them) stay out unless [`Command::inherit_env`] asks for them.
#[derive(Debug)]
pub struct Command {
    pub(crate) program: OsString,
    pub(crate) args: Vec<OsString>,
    pub(crate) inherit_env: bool,
    pub(crate) env_cleared: bool,
    pub(crate) env: BTreeMap<OsString, Option<OsString>>,
    pub(crate) cwd: Option<PathBuf>,
    pub(crate) stdin: Option<Stdio>,
    pub(crate) stdout: Option<Stdio>,
    pub(crate) stderr: Option<Stdio>,
    pub(crate) fds: Vec<(RawFd, OwnedFd)>,
    pub(crate) uid: Option<u32>,
    pub(crate) gid: Option<u32>,
    pub(crate) groups: Option<Vec<u32>>,
}

impl Command {
    /// A program by path, or by name looked up in the sandbox's PATH at spawn.
    #[must_use]
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            program: program.as_ref().to_os_string(),
            args: Vec::new(),
            inherit_env: false,
            env_cleared: false,
            env: BTreeMap::new(),
            cwd: None,
            stdin: None,
            stdout: None,
            stderr: None,
            fds: Vec::new(),
            uid: None,
            gid: None,
            groups: None,
        }
    }

    /// Adds one argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Sets an environment variable.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.env.insert(key.as_ref().to_os_string(), Some(value.as_ref().to_os_string()));
        self
    }

    /// Sets environment variables.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        for (k, v) in vars {
            self.env(k, v);
        }
        self
    }

    /// Removes an environment variable (the default PATH or an inherited one too).
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.env.insert(key.as_ref().to_os_string(), None);
        self
    }

    /// Removes every variable, the default PATH and inherited ones included.
    pub fn env_clear(&mut self) -> &mut Command {
        self.env.clear();
        self.env_cleared = true;
        self.inherit_env = false;
        self
    }

    /// Starts from the parent's environment instead of the minimal default (opt-in: the host's
    /// variables then reach the sandboxed program).
    pub fn inherit_env(&mut self) -> &mut Command {
        self.inherit_env = true;
        self.env_cleared = false;
        self
    }

    /// The working directory inside the sandbox (default: the image's `WorkingDir` with
    /// [`SandboxBuilder::image`](crate::SandboxBuilder::image), else `/` when the sandbox has
    /// its own root, otherwise the parent's).
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.cwd = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Default: inherit (for [`Sandbox::output`](crate::Sandbox::output): null).
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.stdin = Some(cfg.into());
        self
    }

    /// Default: inherit (for `Sandbox::output`: piped).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.stdout = Some(cfg.into());
        self
    }

    /// Default: inherit (for `Sandbox::output`: piped).
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.stderr = Some(cfg.into());
        self
    }

    /// Passes `fd` to the program as descriptor number `target` (3 or above). Apart from these
    /// and stdio, no descriptor of the parent reaches the program.
    pub fn pass_fd(&mut self, target: RawFd, fd: OwnedFd) -> &mut Command {
        self.fds.push((target, fd));
        self
    }

    /// The user id inside the sandbox (default 0 with a user namespace, else unchanged; an
    /// image's `User` when the command sets none of uid, gid and groups).
    pub fn uid(&mut self, uid: u32) -> &mut Command {
        self.uid = Some(uid);
        self
    }

    /// The group id inside the sandbox (default 0 with a user namespace, else unchanged).
    pub fn gid(&mut self, gid: u32) -> &mut Command {
        self.gid = Some(gid);
        self
    }

    /// Supplementary groups inside the sandbox. Needs setgroups, which an unprivileged user
    /// namespace with `UserMapping::Current` denies.
    pub fn groups(&mut self, groups: &[u32]) -> &mut Command {
        self.groups = Some(groups.to_vec());
        self
    }

    /// The program, as given to [`Command::new`].
    #[must_use]
    pub fn get_program(&self) -> &OsStr {
        &self.program
    }

    /// The arguments, without the program.
    pub fn get_args(&self) -> impl Iterator<Item = &OsStr> {
        self.args.iter().map(|a| a.as_os_str())
    }

    /// The environment the program will get (before any PATH lookup).
    #[cfg(test)]
    pub(crate) fn resolved_env(&self) -> BTreeMap<OsString, OsString> {
        self.resolved_env_over(None)
    }

    /// The environment over `base` (an image's `Env`, in place of the default PATH, which is
    /// added if it sets none), unless the command clears or inherits its environment.
    pub(crate) fn resolved_env_over(&self, base: Option<&[(OsString, OsString)]>) -> BTreeMap<OsString, OsString> {
        let mut env: BTreeMap<OsString, OsString> = if self.inherit_env {
            std::env::vars_os().collect()
        } else if self.env_cleared {
            BTreeMap::new()
        } else {
            let mut env: BTreeMap<_, _> = base.unwrap_or_default().iter().cloned().collect();
            env.entry(OsString::from("PATH")).or_insert_with(|| OsString::from(DEFAULT_PATH));
            env
        };
        for (k, v) in &self.env {
            match v {
                Some(v) => env.insert(k.clone(), v.clone()),
                None => env.remove(k),
            };
        }
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_is_minimal_by_default() {
        let env = Command::new("x").resolved_env();
        assert_eq!(env.len(), 1);
        assert_eq!(env[OsStr::new("PATH")], DEFAULT_PATH);
    }

    #[test]
    fn set_remove_clear_and_inherit() {
        let mut cmd = Command::new("x");
        cmd.env("A", "1").env_remove("PATH");
        assert_eq!(cmd.resolved_env().into_iter().collect::<Vec<_>>(), vec![("A".into(), "1".into())]);
        cmd.env_clear();
        assert!(cmd.resolved_env().is_empty());
        std::env::set_var("ISOBOX_TEST_INHERITED", "yes");
        cmd.inherit_env().env("B", "2");
        let env = cmd.resolved_env();
        assert_eq!(env[OsStr::new("ISOBOX_TEST_INHERITED")], "yes");
        assert_eq!(env[OsStr::new("B")], "2");
    }

    #[test]
    fn an_image_env_is_the_base_the_command_overrides() {
        let image = [("PATH".into(), "/img/bin".into()), ("A".into(), "1".into()), ("B".into(), "2".into())];
        let mut cmd = Command::new("x");
        cmd.env("A", "mine").env_remove("B");
        let env = cmd.resolved_env_over(Some(&image));
        assert_eq!(
            env.into_iter().collect::<Vec<_>>(),
            vec![("A".into(), "mine".into()), ("PATH".into(), "/img/bin".into())]
        );
        let no_path = [("C".into(), "3".into())];
        assert_eq!(Command::new("x").resolved_env_over(Some(&no_path))[OsStr::new("PATH")], DEFAULT_PATH);
        cmd.env_clear();
        assert!(cmd.resolved_env_over(Some(&image)).is_empty());
    }
}
