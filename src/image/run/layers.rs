//! An image's layers as one tree, read by the **parent** without mounting it: the layer
//! directories an overlay takes (each once), and a file looked up top layer first the way
//! overlayfs would show it (whiteouts and opaque directories hide what is below), for the
//! image's `/etc/passwd` and `/etc/group`.
//!
//! The layers hold an untrusted image's tree: every component is checked with `lstat` and no
//! symlink inside a layer is followed on the host. A symlink as the file itself is resolved in
//! the image's tree (a few levels); a symlink as one of its directories hides the file.

use std::ffi::{CString, OsStr, OsString};
use std::fs::Metadata;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

/// The most bytes read of one file (an `/etc/passwd` is a few KiB).
const MAX_FILE: u64 = 16 << 20;
/// The most symlinks followed to the file.
const MAX_LINKS: usize = 8;

/// `dirs` (lowest first) with each directory kept only where it is topmost: an image that
/// repeats a layer (Docker's empty layers) would otherwise give overlayfs one lower twice.
pub(crate) fn topmost_once(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut kept: Vec<PathBuf> = Vec::with_capacity(dirs.len());
    for dir in dirs.iter().rev() {
        if !kept.contains(dir) {
            kept.push(dir.clone());
        }
    }
    kept.reverse();
    kept
}

/// What the merged tree has at a path.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    /// A regular file, at this host path in its layer (with the layer and the relative path).
    File(PathBuf, PathBuf),
    /// A symlink, with its target.
    Link(PathBuf),
    /// Nothing, or not a regular file.
    Absent,
}

/// The contents of the regular file at `path` (relative to the image's root) as the merged
/// tree of `layers` (lowest first) shows it; `None` if it is not there.
pub(crate) fn read_merged(layers: &[PathBuf], path: &Path) -> io::Result<Option<(PathBuf, Vec<u8>)>> {
    let mut parts = normal_parts(Path::new(""), path);
    for _ in 0..=MAX_LINKS {
        match find(layers, &parts)? {
            Found::File(layer, rel) => return read_beneath(&layer, &rel).map(|b| Some((layer.join(&rel), b))),
            Found::Link(target) => {
                let parent: PathBuf = parts[..parts.len().saturating_sub(1)].iter().collect();
                parts = normal_parts(&parent, &target);
            }
            Found::Absent => return Ok(None),
        }
    }
    Ok(None)
}

/// `path` resolved against `base` in the image's tree: absolute from its root, `..` stopping
/// there.
fn normal_parts(base: &Path, path: &Path) -> Vec<OsString> {
    let mut parts = Vec::new();
    let from = if path.is_absolute() { None } else { Some(base) };
    for c in from.into_iter().flat_map(Path::components).chain(path.components()) {
        match c {
            Component::Normal(p) => parts.push(p.to_os_string()),
            Component::ParentDir => {
                parts.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    parts
}

/// Looks `parts` up in each layer, top first.
fn find(layers: &[PathBuf], parts: &[OsString]) -> io::Result<Found> {
    if parts.is_empty() {
        return Ok(Found::Absent);
    }
    for layer in layers.iter().rev() {
        let mut at = layer.clone();
        let mut opaque = false;
        for (i, part) in parts.iter().enumerate() {
            at.push(part);
            let Some(meta) = lstat(&at)? else { break };
            if is_whiteout(&meta) {
                return Ok(Found::Absent);
            }
            if i + 1 == parts.len() {
                return Ok(if meta.is_file() {
                    Found::File(layer.clone(), parts.iter().collect())
                } else if meta.file_type().is_symlink() {
                    Found::Link(std::fs::read_link(&at)?)
                } else {
                    Found::Absent
                });
            }
            if !meta.is_dir() {
                return Ok(Found::Absent); // a file or symlink over the directory hides it
            }
            opaque |= is_opaque(&at)?;
        }
        if opaque {
            return Ok(Found::Absent);
        }
    }
    Ok(Found::Absent)
}

fn lstat(path: &Path) -> io::Result<Option<Metadata>> {
    match std::fs::symlink_metadata(path) {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// overlayfs's whiteout: a character device 0:0.
fn is_whiteout(meta: &Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

/// Whether the directory `path` hides the same directory of lower layers (either xattr: the
/// store's layers carry one or the other).
fn is_opaque(path: &Path) -> io::Result<bool> {
    let path = CString::new(path.as_os_str().as_bytes()).map_err(|_| io::ErrorKind::InvalidInput)?;
    for name in [c"trusted.overlay.opaque", c"user.overlay.opaque"] {
        let mut value = [0u8; 1];
        if crate::sys::image_xattr::get(&path, name, &mut value)? == Some(1) && value == *b"y" {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Reads `rel` beneath `layer`, resolved by the kernel through no symlink and nowhere outside.
fn read_beneath(layer: &Path, rel: &Path) -> io::Result<Vec<u8>> {
    use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
    let root = std::fs::File::open(layer)?;
    let resolve = ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS | ResolveFlag::RESOLVE_NO_MAGICLINKS;
    let how = OpenHow::new().flags(OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW).resolve(resolve);
    let fd = crate::sys::fd::openat2(root.as_fd(), OsStr::new(rel.as_os_str()), how)?;
    let mut bytes = Vec::new();
    std::fs::File::from(fd).take(MAX_FILE).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_layer_is_kept_where_it_is_topmost() {
        let dirs: Vec<PathBuf> = ["/a", "/b", "/a", "/c", "/b"].iter().map(PathBuf::from).collect();
        assert_eq!(topmost_once(&dirs), ["/a", "/c", "/b"].iter().map(PathBuf::from).collect::<Vec<_>>());
    }

    #[test]
    fn symlink_targets_resolve_in_the_image_tree() {
        let p = |s: &str| normal_parts(Path::new("etc"), Path::new(s));
        assert_eq!(p("passwd.real"), ["etc", "passwd.real"]);
        assert_eq!(p("/usr/lib/passwd"), ["usr", "lib", "passwd"]);
        assert_eq!(p("../../../x"), ["x"], "`..` stops at the image's root");
    }

    #[test]
    fn whiteouts_and_opaque_dirs_hide_lower_files_and_files_over_dirs_too() {
        let t = tempfile::tempdir().unwrap();
        let layer = |n: &str| {
            let d = t.path().join(n);
            std::fs::create_dir_all(d.join("etc")).unwrap();
            d
        };
        let (low, mid, top) = (layer("low"), layer("mid"), layer("top"));
        std::fs::write(low.join("etc/passwd"), "low").unwrap();
        std::fs::write(low.join("etc/group"), "low").unwrap();
        std::fs::write(mid.join("etc/group"), "mid").unwrap();
        std::os::unix::fs::symlink("group", top.join("etc/alias")).unwrap();
        let layers = [low.clone(), mid.clone(), top.clone()];
        let read = |p: &str| read_merged(&layers, Path::new(p)).unwrap().map(|(_, b)| String::from_utf8(b).unwrap());
        assert_eq!(read("etc/passwd").as_deref(), Some("low"));
        assert_eq!(read("/etc/group").as_deref(), Some("mid"), "the higher layer wins");
        assert_eq!(read("etc/alias").as_deref(), Some("mid"), "a symlink is resolved in the image");
        assert_eq!(read("etc/none"), None);
        // A regular file over the directory hides it (a whiteout needs root: mknod).
        std::fs::remove_dir_all(top.join("etc")).unwrap();
        std::fs::write(top.join("etc"), "").unwrap();
        assert_eq!(read("etc/passwd"), None);
    }
}
