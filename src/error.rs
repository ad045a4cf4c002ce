//! Typed errors (**parent**). Each names the step, the object and the errno, and carries a hint
//! where the host is the likely cause.

use std::io;
use std::path::PathBuf;

use nix::errno::Errno;

use crate::report::Step;
use crate::Namespaces;

/// Everything `build()` and `spawn()` can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("invalid sandbox configuration: {0}")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    /// The program is not in the sandbox (no file at its path, or in no PATH directory).
    #[error("program {program:?} not found inside the sandbox (looked at: {searched})")]
    ProgramNotFound { program: String, searched: String },
    #[error("waiting for sandbox process {pid}: {source}")]
    Wait { pid: i32, source: io::Error },
    #[error("sending signal {signal} to sandbox process {pid}: {source}")]
    Signal { pid: i32, signal: i32, source: io::Error },
    #[error("reading the sandbox's piped output: {0}")]
    Output(#[source] io::Error),
}

/// A configuration that cannot work, found by `build()` or, for a `Command`, by `spawn()`
/// before anything is started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("{what} needs Namespaces::{namespace}")]
    NeedsNamespace { what: &'static str, namespace: &'static str },
    #[error("{what} must be an absolute path, got {path:?}")]
    RelativePath { what: &'static str, path: PathBuf },
    #[error("{what} contains a NUL byte")]
    NulByte { what: String },
    #[error("{what} is {len} bytes; the kernel allows at most 64")]
    NameTooLong { what: &'static str, len: usize },
    #[error("{what} {path:?} is not usable: {source}")]
    Path { what: &'static str, path: PathBuf, source: io::Error },
    #[error("{what} {path:?} is not a directory")]
    NotADirectory { what: &'static str, path: PathBuf },
    #[error("rlimit {resource}: soft limit {soft} is above hard limit {hard}")]
    Rlimit { resource: &'static str, soft: u64, hard: u64 },
    #[error("{kind} {id} inside the sandbox is not covered by the user namespace's {kind} map")]
    UnmappedId { kind: &'static str, id: u32 },
    #[error("subordinate ids for {user}: {reason} (add a line to {file}, e.g. with usermod --add-subuids)")]
    SubordinateIds { user: String, file: &'static str, reason: String },
    #[error("{what}: {reason}")]
    IdMap { what: &'static str, reason: &'static str },
    #[error("no host directory to mount the default root over: each of /tmp, /mnt, /run, /var/tmp, /srv, /opt is missing or holds a bind source")]
    NoStagingDirectory,
    #[error("descriptor {fd} is passed to the sandbox twice")]
    DuplicateFd { fd: i32 },
    #[error("{feature} needs Linux {}.{} or later; this kernel is {}", needs.0, needs.1, found.map_or("of unknown version".to_string(), |(a, b)| format!("{a}.{b}")))]
    KernelTooOld { feature: &'static str, needs: (u32, u32), found: Option<(u32, u32)> },
    #[error("invalid {what}: {reason}")]
    Limit { what: &'static str, reason: String },
    #[error("{option} applies to tmpfs mounts only, not to {mount}")]
    TmpfsOption { option: &'static str, mount: String },
    #[error("the program name is empty")]
    EmptyProgram,
}

/// A failure in the parent while starting the child.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    #[error("creating the sandbox process with namespaces {namespaces:?}: {errno}{}", hint_suffix(*hint))]
    Clone { namespaces: Namespaces, errno: Errno, hint: Option<&'static str> },
    #[error("writing {file:?}: {source}{}", hint_suffix(*hint))]
    IdMap { file: PathBuf, source: io::Error, hint: Option<&'static str> },
    #[error("running {helper} for subordinate ids: {source} (install the uidmap package, which provides newuidmap and newgidmap)")]
    IdMapHelperMissing { helper: &'static str, source: io::Error },
    #[error("{helper} failed ({status}): {stderr}")]
    IdMapHelperFailed { helper: &'static str, status: std::process::ExitStatus, stderr: String },
    #[error("{what}: {source}")]
    Io { what: &'static str, source: io::Error },
    #[error("the sandbox process sent a malformed setup report ({len} bytes)")]
    MalformedReport { len: usize },
}

/// A cgroup that could not be set up, enforced, read or removed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CgroupError {
    #[error("cgroup controller {controller} is not available to {parent:?} on this host ({hint})")]
    ControllerMissing { controller: &'static str, parent: PathBuf, hint: &'static str },
    #[error("{limit} cannot be enforced on cgroup {version}: {reason}")]
    Unsupported { limit: &'static str, version: &'static str, reason: &'static str },
    #[error("no cgroup to put sandboxes in: {reason}. Hint: {hint}")]
    NoDelegation { reason: String, hint: &'static str },
    #[error("creating cgroup {path:?}: {source}{}", hint_suffix(*hint))]
    Create { path: PathBuf, source: io::Error, hint: Option<&'static str> },
    #[error("{limit}: writing {value:?} to {path:?}: {source}{}", hint_suffix(*hint))]
    Write { limit: &'static str, path: PathBuf, value: String, source: io::Error, hint: Option<&'static str> },
    /// `path` is the file read back: the one written, or where the kernel shows what it
    /// applied (v2 `cpuset.cpus.effective`).
    #[error("{limit}: wrote {value:?}, but {path:?} reads {read:?}: the kernel did not take the limit as asked")]
    ReadBack { limit: &'static str, path: PathBuf, value: String, read: String },
    #[error("{what}: reading {path:?}: {source}")]
    Read { what: &'static str, path: PathBuf, source: io::Error },
    #[error("moving the sandbox into {path:?}: {source}")]
    Place { path: PathBuf, source: io::Error },
    #[error("removing cgroup {path:?}: {source}")]
    Remove { path: PathBuf, source: io::Error },
}

/// A failure inside the child before exec, reported over the CLOEXEC pipe.
#[derive(Debug, thiserror::Error)]
#[error("sandbox setup failed at {step}{}: {errno}{}", object_suffix(object), hint_suffix(*hint))]
pub struct SetupError {
    /// Which step failed.
    pub step: Step,
    /// Which object it was working on (a mount with its index, an rlimit, a path), if any.
    pub object: Option<String>,
    pub errno: Errno,
    /// What to do about it, where the host is the likely cause.
    pub hint: Option<&'static str>,
}

fn object_suffix(object: &Option<String>) -> String {
    object.as_ref().map(|o| format!(" {o}")).unwrap_or_default()
}

fn hint_suffix(hint: Option<&'static str>) -> String {
    hint.map(|h| format!(". Hint: {h}")).unwrap_or_default()
}

impl SpawnError {
    pub(crate) fn io(what: &'static str) -> impl FnOnce(io::Error) -> SpawnError {
        move |source| SpawnError::Io { what, source }
    }
}

/// The hint for a failed clone, from the errno and the namespaces asked for.
pub(crate) fn clone_hint(errno: Errno, namespaces: Namespaces, is_root: bool) -> Option<&'static str> {
    let user = namespaces.contains(Namespaces::USER);
    match errno {
        Errno::EPERM | Errno::EACCES if user => Some(
            "creating a user namespace was refused. Enable unprivileged user namespaces: \
             `sysctl -w kernel.unprivileged_userns_clone=1` (Debian/older kernels), \
             `sysctl -w user.max_user_namespaces=15000` if it is 0, and on Ubuntu 23.10+ \
             `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` or an AppArmor profile \
             allowing userns for this program; inside a container, the runtime's seccomp profile \
             may also block it",
        ),
        Errno::EPERM if !is_root => {
            Some("namespaces other than USER need CAP_SYS_ADMIN: add Namespaces::USER or run as root")
        }
        Errno::ENOSPC => Some(
            "a namespace limit was reached: raise /proc/sys/user/max_*_namespaces \
             (e.g. `sysctl -w user.max_user_namespaces=15000`)",
        ),
        Errno::EINVAL if namespaces.contains(Namespaces::TIME) => Some("time namespaces need Linux 5.6 or later"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_error_names_step_object_errno_and_hint() {
        let e = SetupError {
            step: Step::Mount,
            object: Some("#2 (bind /data -> /mnt)".into()),
            errno: Errno::EACCES,
            hint: Some("check it"),
        };
        let text = e.to_string();
        assert!(text.contains("mount #2 (bind /data -> /mnt): EACCES"), "{text}");
        assert!(text.ends_with("Hint: check it"), "{text}");
    }

    #[test]
    fn userns_eperm_names_the_sysctls() {
        let hint = clone_hint(Errno::EPERM, Namespaces::USER, false).unwrap();
        assert!(hint.contains("kernel.unprivileged_userns_clone"));
        assert!(hint.contains("user.max_user_namespaces"));
        assert!(hint.contains("apparmor_restrict_unprivileged_userns"));
        assert!(clone_hint(Errno::EPERM, Namespaces::PID, false).unwrap().contains("Namespaces::USER"));
        assert_eq!(clone_hint(Errno::EPERM, Namespaces::PID, true), None);
    }
}
