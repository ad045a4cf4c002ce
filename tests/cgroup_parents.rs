//! A `cgroup_parent()` that isobox had to create is removed once nothing of this process uses
//! it any more (no `Sandbox`, no sandbox cgroup below it), in every hierarchy; one that existed
//! before, or that another process still uses, stays; a spawn that fails while making it
//! leaves nothing of it. Root only (this host: cgroup v1; the VM: v2).
mod common;
#[path = "common/cgroup.rs"]
mod test_cgroup;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::require_root;
use isobox::{CgroupError, Command, Error, Namespaces, Sandbox};

/// The mount point of every cgroup hierarchy (v1 and v2).
fn mounts() -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    info.lines()
        .filter(|l| l.contains(" - cgroup ") || l.contains(" - cgroup2 "))
        .filter_map(|l| l.split(' ').nth(4).map(PathBuf::from))
        .collect()
}

/// The directories of cgroup `cgroup` that exist, one per hierarchy.
fn dirs_of(cgroup: &str) -> Vec<PathBuf> {
    mounts().into_iter().map(|m| m.join(&cgroup[1..])).filter(|d| d.is_dir()).collect()
}

/// A test's own top cgroup, `/isobox-parents-<pid>-<tag>`: whatever is left of it in any
/// hierarchy is removed, deepest first, whatever happens.
struct Top(String);

impl Top {
    fn new(tag: &str) -> Top {
        Top(format!("/isobox-parents-{}-{tag}", std::process::id()))
    }

    fn below(&self, rest: &str) -> String {
        format!("{}/{rest}", self.0)
    }
}

impl Drop for Top {
    fn drop(&mut self) {
        fn remove_tree(dir: &Path) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                if e.path().is_dir() {
                    remove_tree(&e.path());
                }
            }
            let _ = std::fs::remove_dir(dir);
        }
        for dir in dirs_of(&self.0) {
            remove_tree(&dir);
        }
    }
}

fn sandbox(parent: &str) -> Sandbox {
    let mut b = Sandbox::builder();
    b.namespaces(Namespaces::USER | Namespaces::PID | Namespaces::MOUNT).cgroup_parent(parent);
    b.pids_max(16).memory_max(64 << 20).build().unwrap()
}

fn sleeper() -> Command {
    let mut cmd = Command::new("sleep");
    cmd.arg("100");
    cmd
}

#[test]
fn a_created_parent_lasts_as_long_as_its_last_user_then_goes_in_every_hierarchy() {
    if !require_root() {
        return;
    }
    let top = Top::new("last");
    let parent = top.below("a/b");
    let (first, second) = (sandbox(&parent), sandbox(&parent));
    let mut running = first.spawn(&sleeper()).unwrap();
    assert!(second.status(&Command::new("/bin/true")).unwrap().success());
    let made = dirs_of(&parent);
    // One per hierarchy used: pids, memory, cpuacct on v1; the one hierarchy on v2.
    assert!(!made.is_empty());
    drop(first);
    assert_eq!(dirs_of(&parent), made, "a sandbox still runs below it, and a Sandbox uses it");
    drop(second);
    assert_eq!(dirs_of(&parent), made, "a sandbox still runs below it");
    running.kill().unwrap();
    running.wait().unwrap();
    assert_eq!(dirs_of(&parent), made, "the Child holds its Sandbox's plan (for Child::exec)");
    drop(running);
    assert_eq!(dirs_of(&top.0), Vec::<PathBuf>::new(), "every level isobox made is gone, in every hierarchy");
}

#[test]
fn a_pool_and_a_child_that_outlives_its_sandbox_keep_the_parent() {
    if !require_root() {
        return;
    }
    let top = Top::new("pool");
    let parent = top.below("p");
    let sb = sandbox(&parent);
    let pool = sb.pool(2).unwrap();
    let mut child = sb.spawn(&sleeper()).unwrap();
    drop(sb);
    assert!(pool.status(&Command::new("/bin/true")).unwrap().success());
    drop(pool);
    assert!(!dirs_of(&parent).is_empty(), "the child still runs below it");
    child.kill().unwrap();
    drop(child);
    // A dropped pool's sandboxes (and a refill under way) end on isobox's threads, moments later.
    let until = Instant::now() + Duration::from_secs(10);
    while !dirs_of(&top.0).is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(dirs_of(&top.0), Vec::<PathBuf>::new());
}

#[test]
fn a_parent_that_existed_before_stays_and_only_what_isobox_made_below_it_goes() {
    if !require_root() {
        return;
    }
    let top = Top::new("pre");
    // Made beforehand in the pids hierarchy only (by the user, say); isobox makes it elsewhere.
    let offers_pids = |m: &PathBuf| {
        std::fs::read_to_string(m.join("cgroup.controllers")).is_ok_and(|c| c.split_whitespace().any(|c| c == "pids"))
    };
    let pids = mounts().into_iter().find(|m| m.ends_with("pids") || offers_pids(m));
    let pids = pids.expect("a pids hierarchy").join(&top.0[1..]);
    std::fs::create_dir(&pids).unwrap();
    let parent = top.below("sub");
    let sb = sandbox(&parent);
    assert!(sb.status(&Command::new("/bin/true")).unwrap().success());
    assert!(!dirs_of(&parent).is_empty());
    drop(sb);
    assert_eq!(dirs_of(&top.0), vec![pids], "only the directory that was there before remains");
}

#[test]
fn a_parent_another_process_still_uses_is_left_to_it() {
    if !require_root() {
        return;
    }
    let top = Top::new("shared");
    let sb = sandbox(&top.0);
    assert!(sb.status(&Command::new("/bin/true")).unwrap().success());
    let made = dirs_of(&top.0);
    // Another process's sandbox cgroup below it, in one hierarchy.
    let theirs = made[0].join("isobox-1-0");
    std::fs::create_dir(&theirs).unwrap();
    drop(sb);
    assert_eq!(dirs_of(&top.0), vec![made[0].clone()], "the kernel refuses to remove a cgroup in use");
    assert!(theirs.is_dir(), "theirs is untouched");
}

#[test]
fn a_spawn_that_fails_while_making_the_parent_leaves_no_ancestor_it_made() {
    if !require_root() {
        return;
    }
    let top = Top::new("long");
    // The upper levels fit, the deepest goes past PATH_MAX in every hierarchy: its mkdir fails
    // with ENAMETOOLONG after the levels above it were made.
    let level = "l".repeat(200);
    let parent = format!("{}{}", top.0, format!("/{level}").repeat(4096 / 201 + 1));
    let sb = sandbox(&parent);
    let err = sb.spawn(&Command::new("/bin/true")).unwrap_err();
    let Error::Cgroup(CgroupError::Create { source, .. }) = &err else { panic!("expected a failed mkdir: {err}") };
    assert_eq!(source.raw_os_error(), Some(libc::ENAMETOOLONG), "{err}");
    assert_eq!(dirs_of(&top.0), Vec::<PathBuf>::new(), "nothing of the parent remains, the Sandbox still alive");
    drop(sb);
    assert_eq!(dirs_of(&top.0), Vec::<PathBuf>::new());
}

/// A named sandbox cgroup is exactly `<parent>/<name>` in every hierarchy, one at a time, and
/// gone after the wait like any other.
#[test]
fn a_named_cgroup_is_the_sandboxs_and_one_at_a_time() {
    if !require_root() {
        return;
    }
    let parent = test_cgroup::TestParent::new("named");
    let mut b = parent.builder(Namespaces::PID | Namespaces::MOUNT);
    b.cgroup_name("box-1").pids_max(8);
    let sandbox = b.build().unwrap();
    let mut first = sandbox.spawn(Command::new("sleep").arg("10")).unwrap();
    let dirs: Vec<PathBuf> = first.cgroup_dirs().iter().map(|d| d.to_path_buf()).collect();
    assert!(!dirs.is_empty());
    for dir in &dirs {
        assert_eq!(dir.file_name().unwrap(), "box-1", "{}", dir.display());
        assert!(dir.parent().unwrap().ends_with(&parent.name[1..]), "{}", dir.display());
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap();
        assert!(procs.lines().any(|p| p == first.id().to_string()), "{procs}");
    }
    let second = sandbox.spawn(Command::new("true").arg("x"));
    assert!(matches!(second, Err(Error::Cgroup(CgroupError::Create { .. }))), "{second:?}");
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(dirs.iter().all(|d| !d.exists()), "{dirs:?}");
    let bad = Sandbox::builder().namespaces(Namespaces::PID).cgroup_name("../escape").build().unwrap_err();
    assert!(bad.to_string().contains("one directory name"), "{bad}");
}
