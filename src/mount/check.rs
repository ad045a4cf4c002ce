//! Checking the root and mounts at `build()` (**parent**): each needs a mount namespace,
//! paths are absolute, targets have no `..`, tmpfs options go on tmpfs mounts, and no size silently means "none".

use std::path::Component;

use super::overlay::error::OverlayError;
use super::spec::{MountKind, MountSpec};
use crate::error::ConfigError;
use crate::namespaces::Namespaces;
use crate::validate::{absolute, existing_dir, need};

/// Checks the mount settings against the namespaces.
pub(crate) fn settings(spec: &MountSpec, ns: Namespaces) -> Result<(), ConfigError> {
    if let Some(rootfs) = &spec.rootfs {
        need(ns, Namespaces::MOUNT, "rootfs")?;
        existing_dir("rootfs", rootfs)?;
    }
    if spec.overlay.is_some() {
        need(ns, Namespaces::MOUNT, "an overlay root")?;
        if spec.rootfs.is_some() {
            return Err(OverlayError::WithRootfs.into());
        }
    }
    if !spec.mounts.is_empty() {
        need(ns, Namespaces::MOUNT, "mounts")?;
    }
    if spec.readonly_root {
        need(ns, Namespaces::MOUNT, "a read-only root")?;
    }
    for mount in &spec.mounts {
        absolute("mount target", &mount.target)?;
        if mount.target.components().any(|c| c == Component::ParentDir) {
            return Err(ConfigError::ParentDirInTarget { mount: mount.clone() });
        }
        if !mount.target.components().any(|c| matches!(c, Component::Normal(_))) {
            return Err(ConfigError::TargetIsRoot { mount: mount.clone() });
        }
        if let Some(option) = mount.misapplied {
            return Err(ConfigError::TmpfsOption { option, mount: mount.clone() });
        }
        if mount.source_name.as_ref().is_some_and(|n| n.contains('\0')) {
            return Err(ConfigError::NulByte { what: format!("the source name of {mount}") });
        }
        match &mount.kind {
            MountKind::Bind { source, .. } => absolute("bind source", source)?,
            // tmpfs reads size=0 as "no limit": a limit asked for would silently not apply.
            MountKind::Tmpfs { size: Some(0), .. } => return Err(ConfigError::TmpfsSizeZero { mount: mount.clone() }),
            MountKind::Node(n) if n.is_device() && ns.contains(Namespaces::USER) => {
                return Err(ConfigError::DeviceNodeInUserNamespace { mount: mount.clone() })
            }
            _ => {}
        }
    }
    Ok(())
}
