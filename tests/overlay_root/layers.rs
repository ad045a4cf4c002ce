//! Layer directories for the overlay tests: archives written here, unpacked with
//! `unpack_layer`, and a snapshot of a tree to compare before and after.

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use isobox::{unpack_layer, Mount, UnpackOptions};

use super::common;

/// An entry of a layer archive: a directory (`name/`), a symlink (`target` set) or a file.
pub struct E<'a>(pub &'a str, pub &'a [u8], pub Option<&'a str>);

pub fn f<'a>(name: &'a str, data: &'a [u8]) -> E<'a> {
    E(name, data, None)
}
pub fn d(name: &str) -> E<'_> {
    E(name, b"", None)
}

/// A layer archive of `entries`, owned by `uid` and `gid`.
pub fn archive(entries: &[E<'_>], (uid, gid): (u32, u32)) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for E(name, data, link) in entries {
        let mut h = tar::Header::new_gnu();
        let (kind, mode) = match (link, name.ends_with('/')) {
            (Some(_), _) => (tar::EntryType::Symlink, 0o777),
            (None, true) => (tar::EntryType::Directory, 0o755),
            (None, false) => (tar::EntryType::Regular, 0o644),
        };
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        h.set_uid(uid.into());
        h.set_gid(gid.into());
        if let Some(target) = link {
            h.set_link_name(target).unwrap();
        }
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// Layer directories in a base directory the sandbox's root can search.
pub struct Layers {
    pub base: tempfile::TempDir,
    pub dirs: Vec<PathBuf>,
}

impl Layers {
    pub fn new() -> Layers {
        let base = tempfile::tempdir_in(layer_base().0).unwrap();
        std::fs::set_permissions(base.path(), PermissionsExt::from_mode(0o755)).unwrap();
        Layers { base, dirs: Vec::new() }
    }

    /// Unpacks `entries` as the next layer up; `trusted`: for an overlay without a user
    /// namespace (opaque marks in `trusted.*`, files host root's), else owned by the sandbox's
    /// root on the host (so that, unpacked as root with owners, the sandbox may change them).
    pub fn add(&mut self, entries: &[E<'_>], trusted: bool) -> &mut Self {
        let dir = self.base.path().join(format!("l{:03}", self.dirs.len()));
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, PermissionsExt::from_mode(0o755)).unwrap();
        let mut options = UnpackOptions::default();
        options.trusted_xattrs = trusted;
        let owner = if trusted { (0, 0) } else { common::sandbox_root_on_host() };
        unpack_layer(&archive(entries, owner)[..], &dir, &options).unwrap();
        self.dirs.push(dir);
        self
    }
}

/// Where layers go, and whether they can carry both whiteouts and `user.*` xattrs (opaque
/// marks for an overlay in a user namespace): the temp directory, or the build's own. A VM
/// whose /tmp is a tmpfs before Linux 6.6 (no user xattrs) and whose build directory is a 9p
/// share (no device nodes) has neither: its layers then hold no user opaque mark.
pub fn layer_base() -> (PathBuf, bool) {
    static BASE: std::sync::OnceLock<(PathBuf, bool)> = std::sync::OnceLock::new();
    let marks = archive(&[d("o/"), f("o/.wh..wh..opq", b""), f(".wh.gone", b"")], (0, 0));
    let takes_marks = |dir: &Path| {
        let Ok(probe) = tempfile::tempdir_in(dir) else { return false };
        let mut options = UnpackOptions::default();
        options.trusted_xattrs = false;
        unpack_layer(&marks[..], probe.path(), &options).is_ok()
    };
    let candidates = [std::env::temp_dir(), PathBuf::from(env!("CARGO_TARGET_TMPDIR"))];
    BASE.get_or_init(|| match candidates.iter().find(|d| takes_marks(d)) {
        Some(dir) => (dir.clone(), true),
        None => {
            eprintln!("no directory here takes whiteouts and user xattrs: layers without user opaque marks");
            (candidates[0].clone(), false)
        }
    })
    .clone()
}

/// A base layer whose system directories are the host's: `/usr` bound read-only, and the
/// host's top-level links (merged /usr) as links, or mount points to bind.
pub fn base_entries() -> (Vec<(String, Option<String>)>, Vec<Mount>) {
    let mut entries = vec![("usr/".to_string(), None), ("proc/".to_string(), None)];
    let mut mounts = vec![Mount::bind_ro("/usr", "/usr")];
    for top in ["bin", "sbin", "lib", "lib64"] {
        let host = Path::new("/").join(top);
        match std::fs::read_link(&host) {
            Ok(to) => entries.push((top.to_string(), Some(to.to_str().unwrap().to_string()))),
            Err(_) if host.is_dir() => {
                entries.push((format!("{top}/"), None));
                mounts.push(Mount::bind_ro(&host, &host));
            }
            Err(_) => {}
        }
    }
    (entries, mounts)
}

/// Every entry under `dir`: its type, mode, size and contents (files) or target (links).
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let what = if meta.is_dir() {
                stack.push(path.clone());
                "dir".to_string()
            } else if meta.file_type().is_symlink() {
                format!("link {:?}", std::fs::read_link(&path).unwrap())
            } else if meta.file_type().is_char_device() {
                format!("char {}", meta.rdev())
            } else {
                format!("file {:?}", std::fs::read(&path).unwrap())
            };
            out.insert(path, format!("{what} {:o} {}", meta.mode(), meta.uid()));
        }
    }
    out
}
