//! Features only a spawn can tell (**parent**): user namespaces, time namespaces, overlayfs in
//! a user namespace. Each is an ordinary isobox spawn of a program that does not exist, so the
//! whole recipe runs as any spawn's does and the sandbox ends at its exec (`ProgramNotFound`
//! means everything before it worked). What they make is their own: namespaces and mounts that
//! end with the child.

use std::sync::Arc;

use nix::errno::Errno;

use super::knobs::{userns_knobs, userns_policy_fix};
use super::report::{Check, CheckState, Detail, Finding};
use crate::builder::SandboxBuilder;
use crate::child::step::Step;
use crate::command::Command;
use crate::error::{ConfigError, Error, SpawnError};
use crate::mount::overlay::spec::OverlayRoot;
use crate::namespaces::Namespaces;

/// A program no host has: the probe's exec fails, after everything else.
const NO_PROGRAM: &str = "/isobox-doctor-probe/no-such-program";

/// Builds the sandbox `tweak` describes with `namespaces` and spawns [`NO_PROGRAM`] in it.
pub(super) fn probe(namespaces: Namespaces, tweak: impl FnOnce(&mut SandboxBuilder)) -> Result<(), Error> {
    let mut builder = crate::sandbox::Sandbox::builder();
    builder.namespaces(namespaces);
    tweak(&mut builder);
    let sandbox = builder.build()?;
    match sandbox.status(&Command::new(NO_PROGRAM)) {
        Ok(_) | Err(Error::ProgramNotFound { .. }) => Ok(()),
        Err(Error::Setup(e)) if e.step == Step::Exec => Ok(()),
        Err(e) => Err(e),
    }
}

/// The errno behind a probe's failure, where it has one.
pub(super) fn errno_of(error: &Error) -> Option<Errno> {
    match error {
        Error::Spawn(SpawnError::Clone { errno, .. }) => Some(*errno),
        Error::Spawn(SpawnError::IdMap { source, .. }) => source.raw_os_error().map(Errno::from_raw),
        Error::Setup(e) => Some(e.errno),
        _ => None,
    }
}

/// A probe's state: Works, or what its error means.
fn state_of(result: &Result<(), Error>) -> CheckState {
    let Err(error) = result else { return CheckState::Works };
    match error {
        Error::Config(ConfigError::KernelTooOld { .. }) => CheckState::Missing,
        Error::Spawn(SpawnError::IdMap { .. }) => CheckState::Forbidden,
        _ => match errno_of(error) {
            Some(Errno::EPERM | Errno::EACCES | Errno::ENOSPC | Errno::EUSERS) => CheckState::Forbidden,
            Some(Errno::EINVAL | Errno::ENODEV | Errno::ENOSYS) => CheckState::Missing,
            _ => CheckState::Unknown,
        },
    }
}

fn finding(check: Check, namespaces: Namespaces, result: Result<(), Error>, fix: Option<String>) -> Finding {
    let state = state_of(&result);
    let fix = if state == CheckState::Works { None } else { fix };
    Finding { check, state, detail: Detail::Spawn { namespaces, error: result.err().map(Arc::new) }, fix }
}

/// User namespaces for this caller, and the knob to change where the host forbids them.
pub(super) fn user_namespaces(is_root: bool) -> Finding {
    let result = probe(Namespaces::USER, |_| {});
    let fix = match state_of(&result) {
        CheckState::Missing => "build the kernel with CONFIG_USER_NS=y".to_string(),
        _ => userns_policy_fix(&userns_knobs(), is_root).unwrap_or_else(|| {
            "a seccomp filter or LSM of the container or service isobox runs in refuses clone(CLONE_NEWUSER): \
             allow it there"
                .to_string()
        }),
    };
    finding(Check::UserNamespaces, Namespaces::USER, result, Some(fix))
}

/// A time namespace (with a user namespace for a caller without CAP_SYS_TIME).
pub(super) fn time_namespace(is_root: bool) -> Finding {
    let namespaces = if is_root { Namespaces::TIME } else { Namespaces::USER | Namespaces::TIME };
    let result = probe(namespaces, |_| {});
    let fix = match &result {
        Err(Error::Config(_)) => {
            "upgrade to Linux 6.2 or later (a program enters its time namespace at exec only since)"
        }
        Err(e) if errno_of(e) == Some(Errno::EINVAL) => "build the kernel with CONFIG_TIME_NS=y",
        _ => "time namespaces need user namespaces here: see the user namespaces line",
    };
    finding(Check::TimeNamespace, namespaces, result, Some(fix.to_string()))
}

/// An overlay root over the host's /etc as its one (read-only) layer, inside a user namespace:
/// a directory every host has, outside the directories a staging mount may take, and which
/// overlayfs only reads. Nothing is made on the host.
pub(super) fn overlay_in_user_namespace() -> Finding {
    let namespaces = Namespaces::USER | Namespaces::MOUNT;
    let result = probe(namespaces, |b| {
        b.overlay_root(OverlayRoot::new([LAYER]));
    });
    let fix = match &result {
        Err(Error::Config(ConfigError::KernelTooOld { .. })) => {
            "upgrade to Linux 5.11 or later, where overlayfs can be mounted in a user namespace"
        }
        Err(Error::Spawn(SpawnError::Clone { .. })) => {
            "overlay roots need user namespaces here: see the user namespaces line"
        }
        Err(e) if errno_of(e) == Some(Errno::ENODEV) => "load the overlay module (modprobe overlay)",
        Err(Error::Setup(e)) if e.step == Step::Overlay => {
            "the kernel refuses overlayfs in a user namespace (a distribution patch or LSM): use a plain rootfs"
        }
        _ => "the probe could not run (see the detail); an overlay root's spawn would meet the same",
    };
    finding(Check::OverlayInUserNamespace, namespaces, result, Some(fix.to_string()))
}

/// The overlay probe's layer.
const LAYER: &str = "/etc";
