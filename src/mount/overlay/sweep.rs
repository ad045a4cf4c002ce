//! The throwaway spawn directories of isobox processes that died without removing them
//! (killed with SIGKILL, say), removed at the next `build()` of a sandbox with the same upper
//! directory (**parent**).
//!
//! A throwaway spawn directory is named `tmp-<pid>-<start>-<n>`: its creator's pid and start
//! time (in clock ticks since boot, `/proc/<pid>/stat`), so that a pid reused by another
//! process does not pass for the creator. One is removed only when no process has that pid
//! with that start time; a kept one (`<pid>-<n>`) never is.

use std::ffi::CStr;
use std::os::fd::AsFd;
use std::path::Path;

use crate::owner;
use crate::sys::tree;

/// The name of a spawn directory: kept, `<pid>-<n>`; a throwaway, `tmp-<pid>-<start>-<n>`.
pub(crate) fn spawn_dir_name(keep: bool, n: u64) -> String {
    let pid = std::process::id();
    match (keep, owner::own_start_time()) {
        (false, Some(start)) => format!("tmp-{pid}-{start}-{n}"),
        // Without /proc no start time: a name the sweep leaves alone.
        (false, None) => format!("tmp-{pid}-{n}"),
        (true, _) => format!("{pid}-{n}"),
    }
}

/// Removes the throwaway spawn directories in `parent` whose creator is gone. Best effort:
/// what cannot be listed or removed (another user's, say) stays.
pub(crate) fn sweep(parent: &Path) {
    let Ok(dir) = std::fs::File::open(parent) else {
        return;
    };
    for (name, _) in tree::entries(dir.as_fd()).unwrap_or_default() {
        if creator(&name).is_some_and(|(pid, start)| owner::is_gone(pid, start)) {
            let _ = super::remove::remove_tree_at(dir.as_fd(), &name);
        }
    }
}

/// The creator's pid and start time in a throwaway spawn directory's name, unless it is this
/// process.
fn creator(name: &CStr) -> Option<(u32, u64)> {
    let mut parts = name.to_str().ok()?.strip_prefix("tmp-")?.split('-');
    let (pid, start, n) = (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?);
    let numbered = n.parse::<u64>().is_ok() && parts.next().is_none();
    (numbered && pid != std::process::id()).then_some((pid, start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_throwaway_names_of_other_processes_name_a_creator() {
        let own = std::process::id();
        assert_eq!(creator(c"tmp-12-345-6"), (own != 12).then_some((12, 345)));
        let mine = std::ffi::CString::new(spawn_dir_name(false, 7)).unwrap();
        assert_eq!(creator(&mine), None, "this process's own");
        for kept_or_other in [c"12-6", c"tmp-12-6", c"tmp-12-345-6-7", c"tmp-x-345-6", c"other"] {
            assert_eq!(creator(kept_or_other), None, "{kept_or_other:?}");
        }
        assert!(spawn_dir_name(true, 7).starts_with(&format!("{own}-")));
    }

    #[test]
    fn the_sweep_removes_only_dead_creators_throwaway_dirs() {
        let base = tempfile::tempdir().unwrap();
        let live = crate::owner::start_time(1).unwrap().unwrap();
        let names = [format!("tmp-1-{}-0", live + 1), format!("tmp-1-{live}-0"), "1-0".to_string()];
        for name in &names {
            std::fs::create_dir_all(base.path().join(name).join("upper/d")).unwrap();
        }
        sweep(base.path());
        let left: Vec<bool> = names.iter().map(|n| base.path().join(n).exists()).collect();
        assert_eq!(left, [false, true, true], "the dead creator's removed; the live one's and a kept one stay");
    }
}
