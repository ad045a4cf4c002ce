//! Why a command could not be run in a live sandbox (public; built by the **parent**).

/// A failure of [`Child::exec`](crate::Child::exec) that is neither the command's own (those
/// are the `ConfigError`s a spawn gives, e.g. `UnmappedId` for an id the sandbox does not map)
/// nor a step of the new process's setup (a `SetupError`, e.g. at `Step::Setns`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExecError {
    /// The sandbox's first process has exited: there is nothing left to join.
    #[error("the sandbox (first process {pid}) has exited; nothing is left to run a command in")]
    SandboxGone {
        /// The host pid of its first process.
        pid: i32,
    },
    /// This `Child` does not know its sandbox's plan: only a `Child` from `Sandbox::spawn` (or
    /// from `exec`) can run more commands.
    #[error(
        "this Child cannot run more commands: only one from Sandbox::spawn, or from Child::exec, knows its sandbox"
    )]
    NotJoinable,
    /// The sandbox has a time namespace, which a process sharing the caller's memory cannot
    /// join (the kernel wants a single-threaded process: its clocks are the memory's).
    #[error("a sandbox with a time namespace cannot run more commands: setns(CLONE_NEWTIME) needs a process of its own memory, and isobox's processes share the caller's until exec")]
    TimeNamespace,
    /// The sandbox's seccomp filter has notify rules: their listener is handed over by the
    /// first process only.
    #[error("a sandbox whose seccomp filter has notify rules cannot run more commands yet (the listener is taken from its first process only)")]
    NotifyRules,
}
