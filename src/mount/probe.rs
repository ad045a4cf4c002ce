//! Asking what a host path is (**parent**, at `build()`): the one seam between planning and
//! the host's filesystem, so plans can be tested without touching it.

use std::path::{Path, PathBuf};

/// What a host path is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostPath {
    Dir,
    File,
    /// Only reported when links are not followed.
    Symlink(PathBuf),
    Missing,
}

pub(crate) trait Probe {
    /// Looks at `path`, following a final symlink if `follow`.
    fn probe(&self, path: &Path, follow: bool) -> HostPath;
}

/// The real host.
pub(crate) struct HostProbe;

impl Probe for HostProbe {
    fn probe(&self, path: &Path, follow: bool) -> HostPath {
        let meta = if follow { std::fs::metadata(path) } else { std::fs::symlink_metadata(path) };
        match meta {
            Ok(m) if m.file_type().is_symlink() => {
                std::fs::read_link(path).map(HostPath::Symlink).unwrap_or(HostPath::Missing)
            }
            Ok(m) if m.is_dir() => HostPath::Dir,
            Ok(_) => HostPath::File,
            Err(_) => HostPath::Missing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_probe_tells_dirs_files_links_and_missing_apart() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink("f", &link).unwrap();
        assert_eq!(HostProbe.probe(dir.path(), false), HostPath::Dir);
        assert_eq!(HostProbe.probe(&file, false), HostPath::File);
        assert_eq!(HostProbe.probe(&link, false), HostPath::Symlink("f".into()));
        assert_eq!(HostProbe.probe(&link, true), HostPath::File);
        assert_eq!(HostProbe.probe(&dir.path().join("nope"), true), HostPath::Missing);
    }
}
