//! The typed error of a failure inside the child before exec (public; built by the **parent**
//! from the child's failure record and its own copy of the plan).

use std::fmt;
use std::path::PathBuf;

use nix::errno::Errno;

use super::step::Step;
use crate::caps::spec::Capabilities;
use crate::hint;
use crate::mount::describe::MountAction;
use crate::mount::ops::MountPart;
use crate::rlimit::spec::Rlimit;

/// A failure inside the child before exec, reported over the close-on-exec pipe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sandbox setup failed at {step}{}: {errno}{}", object_suffix(object), hint::suffix(*hint))]
#[non_exhaustive]
pub struct SetupError {
    /// Which step failed.
    pub step: Step,
    /// Which object it was working on, if the step has one.
    pub object: Option<SetupObject>,
    /// The kernel's error.
    pub errno: Errno,
    /// What to do about it, where the host is the likely cause.
    pub hint: Option<&'static str>,
}

/// What a failed setup step was working on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SetupObject {
    /// One operation of the mount plan.
    Mount {
        /// What the operation is part of: the user's mount (index and kind), the default root…
        part: MountPart,
        /// The operation, with paths as the sandbox sees them.
        action: MountAction,
    },
    /// One of the builder's rlimits.
    Rlimit {
        /// Its index among the builder's rlimits.
        index: usize,
        /// The limit.
        rlimit: Rlimit,
    },
    /// A file or directory: the working directory, a program's path, a cgroup's join file or
    /// the time namespace's offsets file.
    Path(PathBuf),
    /// A network interface.
    Interface(&'static str),
    /// One capability: dropped from the bounding set, or raised into the ambient set.
    Capability(Capabilities),
}

impl fmt::Display for SetupObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupObject::Mount { part, action } => write!(f, "{part}, at {action}"),
            SetupObject::Rlimit { index, rlimit } => write!(f, "#{index} {rlimit}"),
            SetupObject::Path(path) => write!(f, "{}", path.display()),
            SetupObject::Interface(name) => f.write_str(name),
            SetupObject::Capability(cap) => write!(f, "{cap}"),
        }
    }
}

fn object_suffix(object: &Option<SetupObject>) -> String {
    object.as_ref().map(|o| format!(" {o}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mount::spec::Mount;

    #[test]
    fn setup_error_names_step_object_errno_and_hint() {
        let mount = Mount::bind("/data", "/mnt");
        let action = MountAction::Bind { source: "/data".into(), target: "/mnt".into() };
        let object = Some(SetupObject::Mount { part: MountPart::UserMount { index: 2, mount }, action });
        let e = SetupError { step: Step::Mount, object, errno: Errno::EACCES, hint: Some("check it") };
        let text = e.to_string();
        assert!(text.contains("mount #2 (bind /data -> /mnt), at bind /data -> /mnt: EACCES"), "{text}");
        assert!(text.ends_with("Hint: check it"), "{text}");
    }
}
