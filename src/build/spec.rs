//! What the builder records (**parent**: plain data; the setters cannot fail, `build()` checks).

use std::ffi::OsString;
use std::path::PathBuf;

use crate::cgroup::spec::Limits;
use crate::mount::spec::MountSpec;
use crate::namespaces::Namespaces;
use crate::rlimit::spec::Rlimit;
use crate::seccomp::spec::Seccomp;
use crate::time::spec::TimeOffsets;
use crate::user::spec::UserMapping;

/// A sandbox as the user asked for it, grouped by the wing that compiles each part.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub namespaces: Namespaces,
    pub mount: MountSpec,
    pub hostname: Option<OsString>,
    pub domainname: Option<OsString>,
    pub rlimits: Vec<Rlimit>,
    pub user_mapping: UserMapping,
    pub time_offsets: Option<TimeOffsets>,
    pub die_with_parent: bool,
    pub no_new_privs: bool,
    pub limits: Limits,
    pub cgroup_parent: Option<PathBuf>,
    pub seccomp: Seccomp,
}

impl Default for Spec {
    /// No namespaces, no mounts; dying with the parent, no_new_privs and the default seccomp
    /// profile on.
    fn default() -> Self {
        Spec {
            namespaces: Namespaces::empty(),
            mount: MountSpec::default(),
            hostname: None,
            domainname: None,
            rlimits: Vec::new(),
            user_mapping: UserMapping::Current,
            time_offsets: None,
            die_with_parent: true,
            no_new_privs: true,
            limits: Limits::default(),
            cgroup_parent: None,
            seccomp: Seccomp::default_profile(),
        }
    }
}
