//! config.json onto the library: a `SandboxBuilder` and the `Command` of `process`. What the
//! library cannot do as asked is refused by field name (`OciError::Unsupported`), never
//! dropped; see CONFORMANCE.md for the list.

use std::path::{Path, PathBuf};

use isobox::{Capabilities, Command, Mount, Namespaces, Resource, SandboxBuilder, UserMapping};

use crate::error::OciError;
use crate::mounts;
use crate::spec::{CapabilitySets, IdMapping, Linux, Other, Process, Spec};

/// What `create` builds from a bundle.
pub struct Mapped {
    pub builder: SandboxBuilder,
    pub command: Command,
    pub rootfs: PathBuf,
    /// The umask the process starts with (the CLI sets its own before the spawn).
    pub umask: Option<u32>,
    /// `process.oomScoreAdj`, written for the held process before `create` returns.
    pub oom_score_adj: Option<i32>,
}

/// runtime-spec fields isobox-oci does not implement: refused where set, never ignored.
/// Any other field the structs do not name is not the spec's, and the spec says to ignore it.
const NOT_IMPLEMENTED: &[&str] = &[
    // top level, other platforms
    "solaris",
    "windows",
    "vm",
    "zos",
    // process
    "scheduler",
    "ioPriority",
    "execCPUAffinity",
    "consoleSize",
    // linux
    "intelRdt",
    "personality",
    "timeOffsets",
    "memoryPolicy",
    "netDevices",
    // linux.resources
    "hugepageLimits",
    "network",
    "rdma",
    "unified",
    // linux.resources.memory
    "kernel",
    "kernelTCP",
    "swappiness",
    "disableOOMKiller",
    "useHierarchy",
    "checkBeforeUpdate",
    // linux.resources.cpu
    "realtimeRuntime",
    "realtimePeriod",
    "burst",
    "idle",
    // linux.resources.blockIO
    "leafWeight",
    "weightDevice",
    "throttleReadBpsDevice",
    "throttleWriteBpsDevice",
    "throttleReadIOPSDevice",
    "throttleWriteIOPSDevice",
    // mounts
    "uidMappings",
    "gidMappings",
    // linux.seccomp
    "listenerMetadata",
];

/// Refuses the spec's fields this runtime does not implement; ignores the rest of `other`,
/// which no version of the spec defines (runtime-spec: "MUST ignore unknown properties").
/// `at` names where they are.
pub fn unknown(at: &str, other: &Other) -> Result<(), OciError> {
    match other.iter().find(|(key, value)| NOT_IMPLEMENTED.contains(&key.as_str()) && !value.is_null()) {
        Some((key, _)) => {
            Err(OciError::unsupported(format!("{at}{key}"), "isobox-oci does not implement this field yet"))
        }
        None => Ok(()),
    }
}

/// Maps the bundle's config.
pub fn map(spec: &Spec, bundle: &Path) -> Result<Mapped, OciError> {
    check_version(&spec.oci_version)?;
    unknown("", &spec.other)?;
    if let Some(hooks) = &spec.hooks {
        // These run inside the container's namespaces at points within the library's setup.
        if !hooks.create_container.is_empty() || !hooks.start_container.is_empty() {
            return Err(OciError::unsupported(
                "hooks.createContainer and hooks.startContainer",
                "isobox-oci runs hooks in the runtime's namespaces only (prestart, createRuntime, poststart, poststop)",
            ));
        }
    }
    let root = spec.root.as_ref().ok_or_else(|| OciError::invalid("root", "missing"))?;
    let rootfs = absolute_in(bundle, &root.path);
    let process = spec.process.as_ref().ok_or_else(|| OciError::invalid("process", "missing (nothing to run)"))?;
    let linux = spec.linux.as_ref();
    let default_linux = Linux::default();
    let linux = linux.unwrap_or(&default_linux);
    let mut b = SandboxBuilder::default();
    // The container outlives `create`, and is reparented to the caller's subreaper (the shim).
    b.die_with_parent(false).init(false);
    let namespaces = namespaces(linux)?;
    b.namespaces(namespaces.flags);
    if let Some(net) = namespaces.network {
        b.network(net);
    }
    b.rootfs(&rootfs).readonly_root(root.readonly);
    // An empty name leaves the namespace's (a new UTS namespace starts with the host's).
    if let Some(h) = spec.hostname.as_deref().filter(|h| !h.is_empty()) {
        b.hostname(h);
    }
    if let Some(d) = spec.domainname.as_deref().filter(|d| !d.is_empty()) {
        b.domainname(d);
    }
    ids(&mut b, linux, namespaces.flags)?;
    linux_rest(&mut b, linux)?;
    for mount in mounts::map(&spec.mounts, bundle)? {
        b.mount(mount);
    }
    for node in crate::devices::map(&linux.devices)? {
        b.mount(node);
    }
    for path in &linux.masked_paths {
        b.mount(Mount::mask(path));
    }
    for path in &linux.readonly_paths {
        b.mount(Mount::read_only(path));
    }
    crate::resources::map(&mut b, linux)?;
    process_settings(&mut b, process)?;
    let command = command(process)?;
    Ok(Mapped { builder: b, command, rootfs, umask: process.user.umask, oom_score_adj: process.oom_score_adj })
}

fn check_version(v: &str) -> Result<(), OciError> {
    if v.starts_with("1.0") || v.starts_with("1.1") || v.starts_with("1.2") {
        Ok(())
    } else {
        Err(OciError::unsupported(format!("ociVersion {v:?}"), "isobox-oci reads runtime-spec 1.0 to 1.2"))
    }
}

/// `path` if absolute, else below `bundle`.
pub fn absolute_in(bundle: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        bundle.join(p)
    }
}

struct NamespaceSet {
    flags: Namespaces,
    network: Option<isobox::Network>,
}

fn namespaces(linux: &Linux) -> Result<NamespaceSet, OciError> {
    let mut set = NamespaceSet { flags: Namespaces::empty(), network: Some(isobox::Network::Host) };
    for ns in &linux.namespaces {
        let flag = match ns.kind.as_str() {
            "pid" => Namespaces::PID,
            "network" => Namespaces::NET,
            "mount" => Namespaces::MOUNT,
            "ipc" => Namespaces::IPC,
            "uts" => Namespaces::UTS,
            "user" => Namespaces::USER,
            "cgroup" => Namespaces::CGROUP,
            "time" => Namespaces::TIME,
            other => return Err(OciError::invalid(format!("linux.namespaces type {other:?}"), "not a namespace type")),
        };
        match (&ns.path, flag) {
            (None, Namespaces::NET) => set.network = None,
            (None, _) => {}
            (Some(path), Namespaces::NET) => {
                let fd = std::fs::File::open(path).map_err(OciError::io("opening the network namespace", path))?;
                set.network = Some(isobox::Network::Join(std::sync::Arc::new(fd.into())));
            }
            (Some(_), _) => {
                return Err(OciError::unsupported(
                    format!("linux.namespaces {} path", ns.kind),
                    "isobox-oci joins only network namespaces by path so far",
                ))
            }
        }
        set.flags |= flag;
    }
    if !set.flags.contains(Namespaces::MOUNT) {
        return Err(OciError::unsupported(
            "a container without a mount namespace",
            "isobox pivots into the root in a mount namespace of its own",
        ));
    }
    Ok(set)
}

/// The user namespace's maps; without one, the process's ids are the host's.
fn ids(b: &mut SandboxBuilder, linux: &Linux, ns: Namespaces) -> Result<(), OciError> {
    let (uids, gids) = (&linux.uid_mappings, &linux.gid_mappings);
    if !ns.contains(Namespaces::USER) {
        if !uids.is_empty() || !gids.is_empty() {
            return Err(OciError::invalid("linux.uidMappings", "id maps need a user namespace"));
        }
        // The config's process.user is the host's ids here, root included: runc's meaning.
        b.user_mapping(UserMapping::Current);
        return Ok(());
    }
    if uids.is_empty() || gids.is_empty() {
        return Err(OciError::invalid("linux.uidMappings", "a user namespace needs uid and gid maps"));
    }
    let own = |m: &[IdMapping], id: u32| m.len() == 1 && m[0].container_id == 0 && m[0].host_id == id && m[0].size == 1;
    let (uid, gid) = (nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw());
    if own(uids, uid) && own(gids, gid) {
        b.user_mapping(UserMapping::Current);
        return Ok(());
    }
    let ranges = |m: &[IdMapping]| m.iter().map(|r| isobox::IdRange::new(r.container_id, r.host_id, r.size)).collect();
    b.user_mapping(UserMapping::Ranges { uids: ranges(uids), gids: ranges(gids) });
    Ok(())
}

/// The rest of `linux` that is not resources, mounts or namespaces.
fn linux_rest(b: &mut SandboxBuilder, linux: &Linux) -> Result<(), OciError> {
    unknown("linux.", &linux.other)?;
    // The library takes only the container's own namespaces' settings, and reads each back.
    for (key, value) in &linux.sysctl {
        b.sysctl(key, value);
    }
    // As runc and crun: a config without `linux.seccomp` asks for no filter (containerd and
    // Kubernetes send their default profile when they want one).
    match &linux.seccomp {
        Some(profile) => b.seccomp(crate::seccomp::compile(profile)?),
        None => b.seccomp(isobox::Seccomp::none()),
    };
    match linux.rootfs_propagation.as_deref() {
        None | Some("") => {}
        Some(p) => match crate::mounts::propagation_of(p) {
            Some((kind, recursive)) => {
                b.root_propagation(kind, recursive);
            }
            None => return Err(OciError::invalid(format!("linux.rootfsPropagation {p:?}"), "not a propagation")),
        },
    }
    if linux.mount_label.as_deref().is_some_and(|l| !l.is_empty()) {
        return Err(OciError::unsupported("linux.mountLabel", "this host has no SELinux"));
    }
    Ok(())
}

/// Without `noNewPrivileges` a filter is installed before the capabilities are dropped (the
/// library does so in a sandbox without its init, as this one is), as runc does.
fn process_settings(b: &mut SandboxBuilder, p: &Process) -> Result<(), OciError> {
    unknown("process.", &p.other)?;
    unknown("process.user.", &p.user.other)?;
    if p.terminal {
        return Err(OciError::unsupported("process.terminal", "isobox-oci has no console socket yet"));
    }
    if p.apparmor_profile.as_deref().is_some_and(|s| !s.is_empty()) {
        return Err(OciError::unsupported("process.apparmorProfile", "this host has no AppArmor"));
    }
    if p.selinux_label.as_deref().is_some_and(|s| !s.is_empty()) {
        return Err(OciError::unsupported("process.selinuxLabel", "this host has no SELinux"));
    }
    b.no_new_privs(p.no_new_privileges);
    for r in &p.rlimits {
        b.rlimit(resource(&r.kind)?, r.soft, r.hard);
    }
    capabilities(b, p.capabilities.as_ref())
}

fn resource(name: &str) -> Result<Resource, OciError> {
    Resource::from_name(name)
        .ok_or_else(|| OciError::invalid(format!("process.rlimits type {name:?}"), "not a resource limit"))
}

/// isobox keeps one set as bounding, permitted and effective, and the ambient set as
/// inheritable too: a config whose sets differ otherwise is refused.
fn capabilities(b: &mut SandboxBuilder, sets: Option<&CapabilitySets>) -> Result<(), OciError> {
    let Some(sets) = sets else { return Ok(()) };
    unknown("process.capabilities.", &sets.other)?;
    let parse = |field: &str, names: &[String]| -> Result<Capabilities, OciError> {
        names.iter().try_fold(Capabilities::empty(), |acc, name| {
            let bare = name.strip_prefix("CAP_").unwrap_or(name);
            Capabilities::from_name(bare).map(|c| acc | c).ok_or_else(|| {
                OciError::invalid(format!("process.capabilities.{field}"), format!("{name:?} is not a capability"))
            })
        })
    };
    let permitted = parse("permitted", &sets.permitted)?;
    let (bounding, effective) = (parse("bounding", &sets.bounding)?, parse("effective", &sets.effective)?);
    let (inheritable, ambient) = (parse("inheritable", &sets.inheritable)?, parse("ambient", &sets.ambient)?);
    if bounding != permitted || effective != permitted {
        return Err(OciError::unsupported(
            "process.capabilities with bounding, permitted and effective sets that differ",
            "isobox keeps one set in all three",
        ));
    }
    if inheritable != ambient {
        return Err(OciError::unsupported(
            "process.capabilities with inheritable and ambient sets that differ",
            "isobox's inheritable set is the ambient set",
        ));
    }
    b.capabilities(permitted).ambient_capabilities(ambient);
    Ok(())
}

fn command(p: &Process) -> Result<Command, OciError> {
    let (program, args) = p.args.split_first().ok_or_else(|| OciError::invalid("process.args", "empty"))?;
    let mut cmd = Command::new(program);
    cmd.args(args).env_clear();
    for pair in &p.env {
        match pair.split_once('=') {
            Some((k, v)) => cmd.env(k, v),
            None => return Err(OciError::invalid("process.env", format!("{pair:?} is not KEY=value"))),
        };
    }
    if !Path::new(&p.cwd).is_absolute() {
        return Err(OciError::invalid("process.cwd", format!("{:?} is not absolute", p.cwd)));
    }
    cmd.current_dir(&p.cwd).uid(p.user.uid).gid(p.user.gid);
    // No additional groups: root sets none (the caller's would stay); an unprivileged caller's
    // user namespace denies setgroups, and its groups show there as the overflow id anyway.
    if !p.user.additional_gids.is_empty() || nix::unistd::geteuid().is_root() {
        cmd.groups(&p.user.additional_gids);
    }
    Ok(cmd)
}
