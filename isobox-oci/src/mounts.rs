//! config.json's `mounts` onto the library's [`Mount`]s, in order. Every option is either
//! done, already true of isobox's mount (nosuid, nodev on fresh filesystems), harmless to
//! leave to the kernel's default (atime), or refused.

use std::path::Path;

use isobox::{Mount, Propagation};

use crate::error::OciError;
use crate::spec::MountEntry;

/// Options every mapped mount has anyway, or whose absence changes nothing of isolation
/// (propagation ones are applied after the mount, see [`propagation`]).
pub const ALWAYS_OK: &[&str] = &[
    "nosuid",
    "nodev",
    "rw",
    "relatime",
    "norelatime",
    "noatime",
    "strictatime",
    "nodiratime",
    "private",
    "rprivate",
    "shared",
    "rshared",
    "slave",
    "rslave",
    "unbindable",
    "runbindable",
];

/// An OCI propagation option as the library's kind and whether it is recursive.
pub fn propagation_of(option: &str) -> Option<(Propagation, bool)> {
    Some(match option {
        "private" => (Propagation::Private, false),
        "rprivate" => (Propagation::Private, true),
        "shared" => (Propagation::Shared, false),
        "rshared" => (Propagation::Shared, true),
        "slave" => (Propagation::Slave, false),
        "rslave" => (Propagation::Slave, true),
        "unbindable" => (Propagation::Unbindable, false),
        "runbindable" => (Propagation::Unbindable, true),
        _ => return None,
    })
}

/// The last propagation option of `entry`, applied to its mount.
fn propagation(m: Mount, entry: &MountEntry) -> Mount {
    match entry.options.iter().rev().find_map(|o| propagation_of(o)) {
        Some((kind, recursive)) => m.propagation(kind, recursive),
        None => m,
    }
}

/// The library's mounts for `entries`; bind sources relative to `bundle`.
pub fn map(entries: &[MountEntry], bundle: &Path) -> Result<Vec<Mount>, OciError> {
    let mut out = Vec::new();
    let mut dev_done = false;
    for entry in entries {
        crate::map::unknown(&format!("mounts[{}].", entry.destination), &entry.other)?;
        let dest = &entry.destination;
        if !Path::new(dest).is_absolute() {
            return Err(OciError::invalid(format!("mounts destination {dest:?}"), "not absolute"));
        }
        let is_bind = entry.options.iter().any(|o| o == "bind" || o == "rbind");
        let kind = if is_bind { "bind" } else { entry.kind.as_deref().unwrap_or("") };
        let mount = match (kind, dest.as_str()) {
            ("tmpfs", "/dev") => {
                dev_done = true;
                // isobox's /dev: the runtime-spec's default devices, a devpts, shm. Its tmpfs
                // takes no size= or mode= (0755 already); what the container writes there is
                // charged to its memory cgroup (CONFORMANCE.md says so).
                Some(Mount::dev("/dev"))
            }
            // isobox's devpts (in its /dev) has ptmxmode 0666 and mode 0620 already; gid=5 it
            // does not set, so a pty's group is its opener's (CONFORMANCE.md says so).
            ("devpts", "/dev/pts") if dev_done => {
                only(entry, &["newinstance", "ptmxmode=0666", "mode=0620", "mode=620", "gid=5", "noexec"])?;
                None
            }
            ("proc", _) => {
                only(entry, &["noexec"])?;
                Some(Mount::proc(dest))
            }
            ("sysfs", _) => {
                only(entry, &["noexec", "ro"])?;
                Some(Mount::sysfs(dest))
            }
            ("mqueue", _) => {
                only(entry, &["noexec"])?;
                Some(Mount::mqueue(dest))
            }
            ("tmpfs", _) => Some(tmpfs(entry)?),
            ("bind", _) => Some(bind(entry, bundle)?),
            (other, _) => {
                return Err(OciError::unsupported(
                    format!("mounts {dest:?} of type {other:?}"),
                    "isobox-oci mounts proc, sysfs, mqueue, tmpfs, devpts (with /dev) and binds",
                ))
            }
        };
        out.extend(mount.map(|m| propagation(named(m, entry), entry)));
    }
    Ok(out)
}

/// A new filesystem with the config's source shown in the mount table (`shm` for /dev/shm).
fn named(m: Mount, entry: &MountEntry) -> Mount {
    let fresh =
        matches!(entry.kind.as_deref(), Some("proc" | "sysfs" | "mqueue" | "tmpfs")) && entry.destination != "/dev";
    let is_bind = entry.options.iter().any(|o| o == "bind" || o == "rbind");
    match entry.source.as_deref() {
        Some(source) if fresh && !is_bind && !source.is_empty() => m.source_name(source),
        _ => m,
    }
}

/// Refuses an option outside `ok` and [`ALWAYS_OK`].
fn only(entry: &MountEntry, ok: &[&str]) -> Result<(), OciError> {
    match entry.options.iter().find(|o| !ok.contains(&o.as_str()) && !ALWAYS_OK.contains(&o.as_str())) {
        Some(o) => Err(OciError::unsupported(
            format!("mount option {o:?} on {}", entry.destination),
            "isobox-oci cannot apply it to this kind of mount",
        )),
        None => Ok(()),
    }
}

fn tmpfs(entry: &MountEntry) -> Result<Mount, OciError> {
    let mut m = Mount::tmpfs(&entry.destination);
    for o in &entry.options {
        if let Some(v) = o.strip_prefix("size=") {
            m = m.size(size(v).ok_or_else(|| bad_option(entry, o))?);
        } else if let Some(v) = o.strip_prefix("mode=") {
            m = m.mode(u32::from_str_radix(v, 8).map_err(|_| bad_option(entry, o))?);
        } else if o == "noexec" {
            m = m.noexec();
        } else {
            only(&MountEntry { options: vec![o.clone()], ..entry.clone() }, &[])?;
        }
    }
    Ok(m)
}

fn bind(entry: &MountEntry, bundle: &Path) -> Result<Mount, OciError> {
    let source = entry
        .source
        .as_deref()
        .ok_or_else(|| OciError::invalid(format!("mounts {}", entry.destination), "a bind without a source"))?;
    let source = crate::map::absolute_in(bundle, source);
    let readonly = entry.options.iter().any(|o| o == "ro");
    let mut m =
        if readonly { Mount::bind_ro(&source, &entry.destination) } else { Mount::bind(&source, &entry.destination) };
    for o in &entry.options {
        match o.as_str() {
            "bind" | "rbind" | "ro" => {}
            // A new filesystem's data: a bind has none (runc and crun ignore them too).
            o if o.starts_with("mode=") || o.starts_with("size=") => {}
            "noexec" => m = m.noexec(),
            "nosuid" => m = m.nosuid(),
            _ => only(&MountEntry { options: vec![o.clone()], ..entry.clone() }, &[])?,
        }
    }
    Ok(m)
}

fn bad_option(entry: &MountEntry, o: &str) -> OciError {
    OciError::invalid(format!("mount option {o:?} on {}", entry.destination), "cannot be read")
}

/// tmpfs's `size=`: bytes with an optional k, m or g suffix (a percentage is refused).
fn size(v: &str) -> Option<u64> {
    let (digits, unit) = match v.char_indices().last()? {
        (i, 'k' | 'K') => (&v[..i], 1 << 10),
        (i, 'm' | 'M') => (&v[..i], 1 << 20),
        (i, 'g' | 'G') => (&v[..i], 1 << 30),
        _ => (v, 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, dest: &str, options: &[&str]) -> MountEntry {
        MountEntry {
            destination: dest.into(),
            source: Some(kind.into()),
            options: options.iter().map(|s| s.to_string()).collect(),
            kind: Some(kind.into()),
            other: Default::default(),
        }
    }

    #[test]
    fn the_usual_linux_mounts_map() {
        let entries = [
            entry("proc", "/proc", &[]),
            entry("tmpfs", "/dev", &["nosuid", "strictatime", "mode=755", "size=65536k"]),
            entry("devpts", "/dev/pts", &["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            entry("tmpfs", "/dev/shm", &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            entry("mqueue", "/dev/mqueue", &["nosuid", "noexec", "nodev"]),
            entry("sysfs", "/sys", &["nosuid", "noexec", "nodev", "ro"]),
        ];
        let mounts = map(&entries, Path::new("/b")).unwrap();
        let shown: Vec<String> = mounts.iter().map(|m| m.to_string()).collect();
        assert_eq!(shown, ["proc /proc", "dev /dev", "tmpfs /dev/shm", "mqueue /dev/mqueue", "sysfs /sys (read-only)"]);
    }

    #[test]
    fn what_cannot_be_applied_is_refused_by_name() {
        let err = map(&[entry("tmpfs", "/x", &["nosymfollow"])], Path::new("/b")).unwrap_err();
        assert!(err.to_string().contains("\"nosymfollow\" on /x"), "{err}");
        let err = map(&[entry("devpts", "/dev/pts", &[])], Path::new("/b")).unwrap_err();
        assert!(err.to_string().contains("devpts"), "{err}");
        let err = map(&[entry("cgroup", "/sys/fs/cgroup", &[])], Path::new("/b")).unwrap_err();
        assert!(matches!(err, OciError::Unsupported { .. }), "{err}");
    }

    #[test]
    fn tmpfs_sizes_take_suffixes() {
        assert_eq!(size("65536k"), Some(64 << 20));
        assert_eq!(size("2g"), Some(2 << 30));
        assert_eq!(size("100"), Some(100));
        assert_eq!(size("50%"), None);
        assert_eq!(size("99999999999999999g"), None);
    }

    #[test]
    fn relative_bind_sources_are_in_the_bundle() {
        let mut e = entry("none", "/data", &["rbind", "ro", "nosuid"]);
        e.source = Some("data".into());
        let m = map(&[e], Path::new("/bundle")).unwrap();
        assert_eq!(m[0].to_string(), "bind /bundle/data -> /data (read-only)");
    }
}
