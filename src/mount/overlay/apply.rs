//! Mounting an overlay root (**child**): a few system calls over the strings the parent
//! prepared; async-signal-safe, no allocation.
//!
//! With `lowerdir+` the layers are given (and resolved by the kernel) before anything is
//! mounted at the staging directory; then the upper goes there (a fresh tmpfs holding `upper`
//! and `work`, or a bind of the spawn's own directory), then `upperdir`, `workdir` and the
//! flags, and the overlay is created, mounted detached and attached on top. Its descriptor is
//! the new root. The legacy way mounts the upper the same way and then calls mount(2) with the
//! option string.

use std::ffi::CStr;

use nix::errno::Errno;

use super::compiled::{OverlayApi, OverlayPlan, UpperPlan};
use super::describe::{Stage, LAYER};
use crate::sys::child as sys;
use crate::sys::mount_api::{self as api, Fd};
use crate::sys::overlay as ovl;

type Failed = (usize, Errno);

fn at(stage: Stage) -> impl Fn(Errno) -> Failed {
    move |errno| (stage as usize, errno)
}

/// Mounts the overlay at its staging directory; returns its mount, the new root. `spawn_upper`:
/// the spawn's own upper directory on the host (with [`UpperPlan::Dir`]). A failure names
/// its stage, or the layer by its index (lowest first) above [`LAYER`].
pub(crate) fn mount(plan: &OverlayPlan, spawn_upper: Option<&CStr>) -> Result<Fd, Failed> {
    match &plan.api {
        OverlayApi::LowerdirPlus => mount_plus(plan, spawn_upper),
        OverlayApi::Legacy { options } => mount_legacy(plan, options, spawn_upper),
    }
}

fn mount_plus(plan: &OverlayPlan, spawn_upper: Option<&CStr>) -> Result<Fd, Failed> {
    let context = Fd(api::fsopen(c"overlay").map_err(at(Stage::Open))?);
    change_to_base(plan)?;
    let layers = plan.lowers.len();
    for (i, lower) in plan.lowers.iter().enumerate() {
        // Top-most first; the failure names the layer lowest first, as the user gave them.
        api::fsconfig_string(context.0, c"lowerdir+", lower).map_err(|errno| (LAYER + layers - 1 - i, errno))?;
    }
    mount_upper(plan, spawn_upper)?;
    api::fsconfig_string(context.0, c"upperdir", &plan.upper_path).map_err(at(Stage::UpperDir))?;
    api::fsconfig_string(context.0, c"workdir", &plan.work_path).map_err(at(Stage::WorkDir))?;
    if plan.userxattr {
        ovl::fsconfig_flag(context.0, c"userxattr").map_err(at(Stage::UserXattr))?;
    }
    if plan.volatile {
        ovl::fsconfig_flag(context.0, c"volatile").map_err(at(Stage::Volatile))?;
    }
    ovl::fsconfig_create(context.0).map_err(at(Stage::Create))?;
    let overlay = Fd(ovl::fsmount(context.0, api::MOUNT_ATTR_NODEV).map_err(at(Stage::Mount))?);
    let staging = host_dir(&plan.staging_c).map_err(at(Stage::Attach))?;
    api::move_mount(overlay.0, staging.0).map_err(at(Stage::Attach))?;
    Ok(overlay)
}

fn mount_legacy(plan: &OverlayPlan, options: &CStr, spawn_upper: Option<&CStr>) -> Result<Fd, Failed> {
    mount_upper(plan, spawn_upper)?;
    change_to_base(plan)?;
    let flags = libc::MS_NODEV;
    sys::mount(Some(c"overlay"), &plan.staging_c, Some(c"overlay"), flags, Some(options))
        .map_err(at(Stage::LegacyMount))?;
    host_dir(&plan.staging_c).map_err(at(Stage::OpenRoot))
}

/// Relative layer paths are resolved from the layers' common parent.
fn change_to_base(plan: &OverlayPlan) -> Result<(), Failed> {
    match &plan.base {
        Some(base) => sys::chdir(base).map_err(at(Stage::Base)),
        None => Ok(()),
    }
}

/// Attaches the upper at the staging directory: a fresh tmpfs with `upper` and `work` in it,
/// or a bind of the spawn's directory, which holds them already.
fn mount_upper(plan: &OverlayPlan, spawn_upper: Option<&CStr>) -> Result<(), Failed> {
    let upper = match &plan.upper {
        UpperPlan::Tmpfs { options } => {
            let context = Fd(api::fsopen(c"tmpfs").map_err(at(Stage::UpperMount))?);
            for (key, value) in options {
                api::fsconfig_string(context.0, key, value).map_err(at(Stage::UpperMount))?;
            }
            let attrs = api::MOUNT_ATTR_NOSUID | api::MOUNT_ATTR_NODEV;
            Fd(api::create_and_mount(context.0, attrs).map_err(at(Stage::UpperMount))?)
        }
        UpperPlan::Dir { .. } => {
            let dir = spawn_upper.ok_or(Errno::EINVAL).map_err(at(Stage::UpperMount))?;
            Fd(api::clone_tree(libc::AT_FDCWD, dir).map_err(at(Stage::UpperMount))?)
        }
    };
    let staging = host_dir(&plan.staging_c).map_err(at(Stage::UpperMount))?;
    api::move_mount(upper.0, staging.0).map_err(at(Stage::UpperMount))?;
    if let UpperPlan::Tmpfs { .. } = plan.upper {
        for name in [c"upper", c"work"] {
            api::mkdirat(upper.0, name, 0o755).map_err(at(Stage::UpperDirs))?;
        }
    }
    Ok(())
}

/// A host directory (links followed) as an O_PATH descriptor.
fn host_dir(path: &CStr) -> Result<Fd, Errno> {
    sys::openat(libc::AT_FDCWD, path, libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0).map(Fd)
}
