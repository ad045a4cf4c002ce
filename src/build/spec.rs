//! What the builder records (**parent**: plain data; the setters cannot fail, `build()` checks).

use std::ffi::OsString;
use std::path::PathBuf;

use crate::caps::spec::CapsSpec;
use crate::cgroup::spec::Limits;
use crate::image::run::spec::ImageSpec;
#[cfg(feature = "landlock")]
use crate::landlock::spec::Landlock;
use crate::mount::spec::MountSpec;
use crate::namespaces::Namespaces;
use crate::net::mode::spec::Network;
use crate::rlimit::spec::Rlimit;
use crate::seccomp::spec::Seccomp;
use crate::time::spec::TimeOffsets;
use crate::user::spec::UserMapping;

/// A sandbox as the user asked for it, grouped by the wing that compiles each part.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub namespaces: Namespaces,
    /// The network mode; `None`: as `namespaces` says (`NET`: loopback, else the host's).
    pub network: Option<Network>,
    pub mount: MountSpec,
    pub hostname: Option<OsString>,
    pub domainname: Option<OsString>,
    pub rlimits: Vec<Rlimit>,
    pub user_mapping: UserMapping,
    pub time_offsets: Option<TimeOffsets>,
    pub die_with_parent: bool,
    pub no_new_privs: bool,
    pub new_session: bool,
    pub caps: CapsSpec,
    pub limits: Limits,
    pub cgroup_parent: Option<PathBuf>,
    /// The sandbox cgroup's own name (`SandboxBuilder::cgroup_name`).
    pub cgroup_name: Option<String>,
    /// `SandboxBuilder::sysctl`, in order.
    pub sysctls: Vec<(String, String)>,
    #[cfg(feature = "landlock")]
    pub landlock: Option<Landlock>,
    pub seccomp: Seccomp,
    /// isobox's init as pid 1 when there is a pid namespace.
    pub init: bool,
    /// The image whose config gives the commands' defaults (its layers are `mount.overlay`).
    pub image: Option<ImageSpec>,
}

impl Default for Spec {
    /// No namespaces, no mounts, no capabilities; dying with the parent, no_new_privs, a new
    /// session, the default seccomp profile and the init on.
    fn default() -> Self {
        Spec {
            namespaces: Namespaces::empty(),
            network: None,
            mount: MountSpec::default(),
            hostname: None,
            domainname: None,
            rlimits: Vec::new(),
            user_mapping: UserMapping::Unprivileged,
            time_offsets: None,
            die_with_parent: true,
            no_new_privs: true,
            new_session: true,
            caps: CapsSpec::default(),
            limits: Limits::default(),
            cgroup_parent: None,
            cgroup_name: None,
            sysctls: Vec::new(),
            #[cfg(feature = "landlock")]
            landlock: None,
            seccomp: Seccomp::default_profile(),
            init: true,
            image: None,
        }
    }
}
