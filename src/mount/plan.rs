//! The mount plan: the user's root and mounts compiled into a flat list of operations
//! (**parent**, at `build()`; the child runs them in order, see [`super::apply`]).
//!
//! In the child's private mount namespace the new root is built in place: a `rootfs` is bound
//! onto itself, the default root is a tmpfs mounted over a host directory that holds no bind
//! source (so no source is hidden). Mounts go below it, sources are read at their host paths,
//! and at the end the child pivots into it and detaches the host's root with everything below.

use std::path::{Path, PathBuf};

use super::check;
use super::default_root;
use super::ops::{cpath, Fs, InRoot, Masks, MountPart, Op, OpsBuilder, PlannedOp};
use super::overlay;
use super::probe::{HostPath, HostProbe, Probe};
use super::spec::{Mount, MountKind, MountSpec};
use crate::error::ConfigError;
use crate::namespaces::Namespaces;

/// The compiled plan: where the new root is built, and the operations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MountPlan {
    /// The host path the new root is assembled at (the rootfs, or the default root's tmpfs).
    pub root: PathBuf,
    pub ops: Vec<PlannedOp>,
}

impl MountPlan {
    /// The overlay root's plan, if the root is one.
    pub fn overlay(&self) -> Option<&overlay::compiled::OverlayPlan> {
        self.ops.iter().find_map(|p| match &p.op {
            Op::Overlay(plan) => Some(&**plan),
            _ => None,
        })
    }

    /// How many mounts the plan makes, for the memory floor: one an operation, and one an
    /// overlay layer (overlayfs clones each layer's mount).
    pub fn mount_count(&self) -> u64 {
        (self.ops.len() + self.overlay().map_or(0, |o| o.layers.len())) as u64
    }
}

/// Checks the mount settings and compiles them; an empty plan without a mount namespace.
/// `host_root_inside`: whether an id inside may be host uid 0 (decides the read-only procfs
/// entries, see [`super::masks::masks_for`]).
pub(crate) fn compile(spec: &MountSpec, ns: Namespaces, host_root_inside: bool) -> Result<MountPlan, ConfigError> {
    check::settings(spec, ns)?;
    if !ns.contains(Namespaces::MOUNT) {
        return Ok(MountPlan::default());
    }
    let overlay = match &spec.overlay {
        Some(root) => Some(overlay::plan::compile(root, &overlay_input(spec, ns))?),
        None => None,
    };
    let default_root_at = match (&spec.rootfs, &overlay) {
        (Some(rootfs), _) => rootfs.clone(),
        (None, Some(overlay)) => overlay.staging.clone(),
        (None, None) => {
            default_root::mount_point(&spec.mounts, &|p| p.is_dir()).ok_or(ConfigError::NoStagingDirectory)?
        }
    };
    let input = PlanInput {
        default_root_at: &default_root_at,
        rootfs: spec.rootfs.as_deref(),
        overlay,
        mounts: &spec.mounts,
        readonly_root: spec.readonly_root,
        pid_namespace: ns.contains(Namespaces::PID),
        masks: super::masks::masks_for(spec.masked_paths, host_root_inside),
        root_propagation: spec.root_propagation,
    };
    build_plan(&input, &HostProbe)
}

/// What the overlay's plan needs of the host: the kernel, the page size, what it must not hide.
fn overlay_input(spec: &MountSpec, ns: Namespaces) -> overlay::plan::OverlayInput<'_> {
    let keep_visible = default_root::bind_sources(&spec.mounts);
    overlay::plan::OverlayInput {
        user_namespace: ns.contains(Namespaces::USER),
        kernel: crate::kernel::version(),
        keep_visible,
        candidates: &default_root::DEFAULT_ROOT_MOUNT_POINTS,
        page: nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE).ok().flatten().map_or(4096, |p| p as usize),
    }
}

/// What the plan is built from (already validated: absolute paths, no NUL bytes).
pub(crate) struct PlanInput<'a> {
    /// Where the default root's tmpfs goes (see [`default_root::mount_point`]); with an
    /// overlay root, its staging directory.
    pub default_root_at: &'a Path,
    pub rootfs: Option<&'a Path>,
    /// An overlay root (compiled), in place of `rootfs`.
    pub overlay: Option<overlay::compiled::OverlayPlan>,
    pub mounts: &'a [Mount],
    pub readonly_root: bool,
    /// The default root gets a /proc only when the sandbox has its own pid namespace.
    pub pid_namespace: bool,
    /// What every procfs gets (see [`super::masks`]).
    pub masks: Masks,
    /// The root mount's propagation, set once it is entered.
    pub root_propagation: Option<(super::spec::Propagation, bool)>,
}

/// Compiles the mount plan. `probe` answers what a host path is; it is a seam for tests.
pub(crate) fn build_plan(input: &PlanInput<'_>, probe: &dyn Probe) -> Result<MountPlan, ConfigError> {
    let root = input.rootfs.unwrap_or(input.default_root_at).to_path_buf();
    let mut b = OpsBuilder { ops: Vec::new(), part: MountPart::NewRoot, root, masks: input.masks };
    b.push(Op::MakePrivate);
    match (input.rootfs, &input.overlay) {
        (Some(rootfs), _) => {
            b.part = MountPart::Rootfs(rootfs.to_path_buf());
            b.push(Op::RootBind { path: cpath(rootfs) });
        }
        (None, Some(overlay)) => {
            b.part = MountPart::OverlayRoot;
            b.push(Op::Overlay(Box::new(overlay.clone())));
        }
        (None, None) => {
            b.part = MountPart::DefaultRoot;
            default_root::build(&mut b, input.pid_namespace, probe);
        }
    }
    for (index, mount) in input.mounts.iter().enumerate() {
        user_mount(&mut b, index, mount, probe)?;
    }
    if input.readonly_root {
        b.part = MountPart::ReadOnlyRoot;
        b.push(Op::ReadOnlyRoot { path: cpath(&b.root) });
    }
    b.part = MountPart::NewRoot;
    b.push(Op::EnterNewRoot { new_root: cpath(&b.root) });
    if let Some((kind, recursive)) = input.root_propagation {
        b.push(Op::RootPropagation { flag: kind.flag(), recursive });
    }
    Ok(MountPlan { root: b.root, ops: b.ops })
}

fn user_mount(b: &mut OpsBuilder, index: usize, mount: &Mount, probe: &dyn Probe) -> Result<(), ConfigError> {
    b.part = MountPart::UserMount { index, mount: mount.clone() };
    // A mask or a read-only path changes what is there and creates nothing.
    let in_place = match &mount.kind {
        MountKind::Mask => Some(Op::MaskPath { target: InRoot::new(&mount.target) }),
        MountKind::ReadOnly => Some(Op::ReadOnlyPath { target: InRoot::new(&mount.target) }),
        _ => None,
    };
    if let Some(op) = in_place {
        b.push(op);
        return Ok(());
    }
    let start = b.ops.len();
    b.mkdir_parents(&mount.target);
    match &mount.kind {
        MountKind::Bind { source, readonly, devices } => match probe.probe(source, true) {
            HostPath::Dir => b.bind_dir(source, &mount.target, *readonly, *devices),
            HostPath::File => b.bind_file(source, &mount.target, *readonly, *devices),
            HostPath::Missing | HostPath::Symlink(_) => {
                let err = std::io::Error::from_raw_os_error(libc::ENOENT);
                return Err(ConfigError::Path { what: "bind source", path: source.clone(), source: err });
            }
        },
        MountKind::Tmpfs { size, mode } => b.mount_tmpfs(&mount.target, mode.unwrap_or(0o755), *size),
        MountKind::Proc => super::masks::mount_proc(b, &mount.target),
        MountKind::Dev => default_root::dev(b, &mount.target),
        MountKind::Sysfs => b.mount_fresh(Fs::Sysfs, &mount.target),
        MountKind::Mqueue => b.mount_fresh(Fs::Mqueue, &mount.target),
        MountKind::Mask | MountKind::ReadOnly => {}
        MountKind::Node(n) => b.push(Op::Mknod {
            path: InRoot::new(&mount.target),
            mode: n.kind | n.mode,
            dev: libc::makedev(n.major, n.minor),
            uid: n.uid,
            gid: n.gid,
        }),
    }
    b.add_attrs_from(start, mount.extra_attrs);
    if let Some(name) = &mount.source_name {
        b.name_source_from(start, name);
    }
    if let Some((kind, recursive)) = mount.propagation {
        b.push(Op::Propagate { target: InRoot::new(&mount.target), flag: kind.flag(), recursive });
    }
    Ok(())
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
