//! Where the cgroup hierarchies are (**parent**): read from /proc/self/mountinfo, never assumed.
//!
//! A host is v2 (one `cgroup2` mount holding every controller), v1 (a `cgroup` mount per
//! controller or group of controllers), or hybrid (v1 controllers plus a `cgroup2` mount with
//! whatever no v1 hierarchy took, like this project's CI host).

use std::path::{Path, PathBuf};

use super::controller::Controller;
use super::fs::read_small;

/// One mounted hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hierarchy {
    /// Where it is mounted.
    pub mount: PathBuf,
    /// The cgroup the mount's root directory is (not `/` inside a container's cgroup namespace
    /// or a bind mount of a subtree).
    pub root: PathBuf,
    /// v1 only: the controllers bound to it (`cpu`, `cpuacct`, `memory`, …).
    pub controllers: Vec<String>,
}

/// The cgroup hierarchies of this host.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Layout {
    pub unified: Option<Hierarchy>,
    /// Controllers the unified hierarchy offers (its root's cgroup.controllers).
    pub unified_controllers: Vec<String>,
    pub v1: Vec<Hierarchy>,
}

/// Where one controller lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place<'a> {
    V1(&'a Hierarchy),
    V2(&'a Hierarchy),
}

impl Layout {
    /// Reads this host's layout. A failure names the file that could not be read.
    pub fn detect() -> Result<Layout, (PathBuf, std::io::Error)> {
        let read = |path: PathBuf| read_small(&path).map_err(|e| (path, e));
        let mut layout = parse_mountinfo(&read(PathBuf::from("/proc/self/mountinfo"))?);
        if let Some(unified) = &layout.unified {
            let text = read(unified.mount.join("cgroup.controllers"))?;
            layout.unified_controllers = text.split_whitespace().map(String::from).collect();
        }
        Ok(layout)
    }

    /// The hierarchy holding `controller`: a v1 hierarchy that binds it, else the unified
    /// hierarchy if it offers it.
    pub fn place(&self, controller: Controller) -> Option<Place<'_>> {
        if let Some(h) = self.v1.iter().find(|h| h.controllers.iter().any(|c| c == controller.v1_name())) {
            return Some(Place::V1(h));
        }
        let unified = self.unified.as_ref()?;
        self.unified_controllers.iter().any(|c| c == controller.v2_name()).then_some(Place::V2(unified))
    }

    /// True when there is no v1 controller hierarchy at all.
    pub fn is_pure_v2(&self) -> bool {
        self.unified.is_some() && self.v1.iter().all(|h| h.controllers.iter().all(|c| c.starts_with("name=")))
    }
}

/// Parses mountinfo(5) text into the cgroup hierarchies.
pub(crate) fn parse_mountinfo(text: &str) -> Layout {
    let mut layout = Layout::default();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else { continue };
        let fields: Vec<&str> = left.split(' ').collect();
        let theirs: Vec<&str> = right.split(' ').collect();
        let (Some(root), Some(mount), Some(fstype)) = (fields.get(3), fields.get(4), theirs.first()) else { continue };
        let (root, mount) = (PathBuf::from(unescape(root)), PathBuf::from(unescape(mount)));
        match *fstype {
            "cgroup2" => layout.unified = Some(Hierarchy { mount, root, controllers: Vec::new() }),
            "cgroup" => {
                let options = theirs.get(2).copied().unwrap_or("");
                let controllers: Vec<String> =
                    options.split(',').filter(|o| !is_mount_option(o)).map(String::from).collect();
                layout.v1.push(Hierarchy { mount, root, controllers });
            }
            _ => {}
        }
    }
    layout
}

/// A v1 super option that is not a controller (`name=…` is kept: it marks a named hierarchy).
fn is_mount_option(option: &str) -> bool {
    matches!(option, "rw" | "ro" | "none" | "xattr" | "noprefix" | "clone_children" | "cpuset_v2_mode" | "favordynmods")
        || (option.contains('=') && !option.starts_with("name="))
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape(s: &str) -> String {
    s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
}

/// The directory of cgroup `cgroup` (an absolute cgroup path) in hierarchy `h`.
pub(crate) fn dir_of(h: &Hierarchy, cgroup: &Path) -> PathBuf {
    let relative = cgroup.strip_prefix(&h.root).unwrap_or(cgroup);
    h.mount.join(relative.strip_prefix("/").unwrap_or(relative))
}

#[cfg(test)]
#[path = "layout_tests.rs"]
mod tests;
