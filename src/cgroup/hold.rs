//! Which parent cgroups this process uses, and which of their directories it made (**parent**).
//!
//! A parent directory (one per hierarchy) is prepared once while this process uses it: created
//! where missing, given the controllers on v2, swept of what dead isobox processes left. Each
//! user holds it: a spawn while it runs, each sandbox cgroup below it while it lives, and the
//! `Sandbox` from its first cgroup on (so that spawning again costs no mkdir and no sweep). When
//! the last hold goes, the directories this process made for it are removed, deepest first, and
//! nothing else: a directory that was there before is never touched, and the kernel refuses to
//! remove a cgroup that still holds processes or cgroups (EBUSY), so one that another process
//! uses at that moment stays. Another process that finds its parent gone prepares it again.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::controller::Controller;
use super::dir::Version;
use super::error::CgroupError;
use super::parent_dirs::{prepare_parent, sweep};

/// One parent directory this process uses.
struct Entry {
    dir: PathBuf,
    /// The controllers it was prepared for: enabled (v2) or the preparation failed.
    required: Vec<Controller>,
    /// Those it was prepared for the figures only: enabled on v2 where the parent is offered
    /// them, else skipped (and not asked about again).
    optional: Vec<Controller>,
    /// The directories this process made for it, topmost first.
    made: Vec<PathBuf>,
    holds: usize,
}

static ENTRIES: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

fn entries() -> MutexGuard<'static, Vec<Entry>> {
    ENTRIES.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Holds on prepared parent directories; dropping it lets them go.
#[derive(Debug, Default)]
pub(crate) struct ParentHold {
    dirs: Vec<PathBuf>,
}

/// What a parent needs: the controllers a limit needs (enabled or the spawn fails) and those
/// read for the figures only (on v2 enabled where the parent is offered them, else skipped).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Needs<'a> {
    pub version: Version,
    pub required: &'a [Controller],
    pub optional: &'a [Controller],
}

impl Needs<'_> {
    /// Whether `entry` was prepared for all of these already.
    fn met_by(&self, entry: &Entry) -> bool {
        self.required.iter().all(|c| entry.required.contains(c))
            && self.optional.iter().all(|c| entry.required.contains(c) || entry.optional.contains(c))
    }
}

impl ParentHold {
    /// Prepares `dir` unless this process has it prepared for these controllers already, and
    /// holds it. A preparation that fails removes what it made, unless another hold has it.
    pub fn take(&mut self, dir: &Path, needs: Needs<'_>) -> Result<(), CgroupError> {
        let mut list = entries();
        let at = match list.iter().position(|e| e.dir == dir) {
            Some(at) if needs.met_by(&list[at]) => at,
            found => {
                let at = found.unwrap_or_else(|| {
                    let dir = dir.to_path_buf();
                    list.push(Entry { dir, required: Vec::new(), optional: Vec::new(), made: Vec::new(), holds: 0 });
                    list.len() - 1
                });
                let result = prepare(&mut list[at], needs);
                if let Err(e) = result {
                    if list[at].holds == 0 {
                        remove_made(&list.swap_remove(at).made);
                    }
                    return Err(e);
                }
                at
            }
        };
        list[at].holds += 1;
        self.dirs.push(dir.to_path_buf());
        Ok(())
    }

    /// Prepares `dir` (held) again: it was found gone, removed by another process.
    pub fn prepare_again(&self, dir: &Path, version: Version) -> Result<(), CgroupError> {
        let mut list = entries();
        let Some(entry) = list.iter_mut().find(|e| e.dir == dir) else { return Ok(()) };
        let (required, optional) = (entry.required.clone(), entry.optional.clone());
        prepare(entry, Needs { version, required: &required, optional: &optional })
    }

    /// The directories this process made for the parents held, topmost first within each.
    pub fn made(&self) -> Vec<PathBuf> {
        let list = entries();
        self.dirs.iter().filter_map(|d| list.iter().find(|e| &e.dir == d)).flat_map(|e| e.made.clone()).collect()
    }

    /// Another hold on the same directories.
    pub fn share(&self) -> ParentHold {
        let mut list = entries();
        for dir in &self.dirs {
            if let Some(entry) = list.iter_mut().find(|e| &e.dir == dir) {
                entry.holds += 1;
            }
        }
        ParentHold { dirs: self.dirs.clone() }
    }
}

impl Drop for ParentHold {
    fn drop(&mut self) {
        if self.dirs.is_empty() {
            return;
        }
        let mut list = entries();
        for dir in &self.dirs {
            let Some(at) = list.iter().position(|e| &e.dir == dir) else { continue };
            list[at].holds -= 1;
            if list[at].holds == 0 {
                remove_made(&list.swap_remove(at).made);
            }
        }
    }
}

/// Creates what is missing of `entry.dir`, enables the controllers, sweeps; records what it
/// made and what it was asked for.
fn prepare(entry: &mut Entry, needs: Needs<'_>) -> Result<(), CgroupError> {
    prepare_parent(&entry.dir, needs.version, needs.required, needs.optional, &mut entry.made)?;
    sweep(&entry.dir);
    for (have, asked) in [(&mut entry.required, needs.required), (&mut entry.optional, needs.optional)] {
        have.extend(asked.iter().filter(|c| !have.contains(c)).copied().collect::<Vec<_>>());
    }
    Ok(())
}

/// rmdir of each directory, deepest first. One that holds anything (EBUSY: a cgroup of
/// another process's, say) stays, and so do those above it.
fn remove_made(made: &[PathBuf]) {
    for dir in made.iter().rev() {
        if std::fs::remove_dir(dir).is_err() && dir.exists() {
            return;
        }
    }
}

/// The `Sandbox`'s own hold on its parents, from its first cgroup on; shared by the clones
/// of its plan, released with the last.
#[derive(Debug, Clone, Default)]
pub(crate) struct SandboxHold(Arc<OnceLock<ParentHold>>);

impl SandboxHold {
    /// Keeps the parents `hold` holds, unless the sandbox holds them already.
    pub fn keep(&self, hold: &ParentHold) {
        if self.0.get().is_none() {
            let _ = self.0.set(hold.share());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_hold_removes_what_was_made_and_nothing_that_was_there() {
        let tmp = tempfile::tempdir().unwrap();
        let parent = tmp.path().join("a/b");
        let needs = Needs { version: Version::V1, required: &[], optional: &[] };
        let mut first = ParentHold::default();
        first.take(&parent, needs).unwrap();
        let mut second = ParentHold::default();
        second.take(&parent, needs).unwrap();
        let kept = first.share();
        assert!(parent.is_dir());
        drop(first);
        drop(second);
        assert!(parent.is_dir(), "one hold is left");
        drop(kept);
        assert!(!tmp.path().join("a").exists(), "both levels made are gone");
        assert!(tmp.path().is_dir(), "what was there stays");
    }

    #[test]
    fn a_directory_in_use_stays_with_those_above_it() {
        let tmp = tempfile::tempdir().unwrap();
        let parent = tmp.path().join("x/y");
        let mut hold = ParentHold::default();
        hold.take(&parent, Needs { version: Version::V1, required: &[], optional: &[] }).unwrap();
        std::fs::write(parent.join("theirs"), "").unwrap(); // rmdir fails: not empty
        drop(hold);
        assert!(parent.join("theirs").exists());
        std::fs::remove_file(parent.join("theirs")).unwrap();
    }
}
