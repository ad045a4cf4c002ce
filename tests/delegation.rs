//! An unprivileged caller's cgroups: on v2 in a delegated subtree it owns, on v1 refused with a
//! hint. The test runs as root, prepares the delegation, and runs a copy of this test binary
//! as user 65534 as the caller.
mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use isobox::{Command, Namespaces, Sandbox};

const NOBODY: u32 = 65534;

/// The caller's side, run by the test as user 65534: spawn with limits under the delegated
/// parent and print what happened.
#[test]
#[ignore = "run by delegated_cgroups_work_for_an_unprivileged_caller"]
fn helper_unprivileged_caller() {
    let Ok(parent) = std::env::var("ISOBOX_DELEGATED_PARENT") else { return };
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap(); // wait until we have been placed
    let sb = Sandbox::builder()
        .namespaces(Namespaces::USER | Namespaces::PID | Namespaces::MOUNT)
        .memory_max(64 << 20)
        .pids_max(16)
        .cgroup_parent(&parent)
        .build()
        .unwrap();
    match sb.status(&Command::new("/bin/true")) {
        Ok(report) => println!("RESULT ok {:?}", report.cgroup.map(|c| c.memory_peak_bytes.is_some())),
        Err(e) => println!("RESULT err {e}"),
    }
}

#[test]
fn delegated_cgroups_work_for_an_unprivileged_caller() {
    if !common::require_root() {
        return;
    }
    let v2 = Path::new("/sys/fs/cgroup/cgroup.subtree_control").exists();
    let name = format!("isobox-deleg-{}", std::process::id());
    let deleg = Path::new("/sys/fs/cgroup").join(&name);
    let _cleanup = Cleanup(deleg.clone());
    let leaf = deleg.join("caller");
    if v2 {
        delegate(&deleg, &leaf);
    }
    let (bin, _dir) = copy_of_this_binary();
    // Killed and reaped if the test fails before waiting for it (dropped before `_cleanup`,
    // so the cgroup it was placed in is empty by then).
    let spawned = std::process::Command::new(&bin)
        .args(["helper_unprivileged_caller", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env("ISOBOX_DELEGATED_PARENT", format!("/{name}"))
        .uid(NOBODY)
        .gid(NOBODY)
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut helper = common::KillOnDrop(spawned);
    if v2 {
        std::fs::write(leaf.join("cgroup.procs"), helper.id().to_string()).unwrap();
    }
    writeln!(helper.stdin.take().unwrap(), "go").unwrap();
    let out = BufReader::new(helper.stdout.take().unwrap());
    let lines: Vec<String> = out.lines().map_while(Result::ok).collect();
    // libtest prints the test's name on the same line, before the helper's own output.
    let result = lines.iter().find_map(|l| l.find("RESULT").map(|at| l[at..].to_string())).unwrap_or_default();
    assert!(helper.wait().unwrap().success(), "the caller failed: {lines:?}");
    if v2 {
        assert_eq!(result, "RESULT ok Some(true)", "the sandbox ran in the delegated subtree with its limits");
        let left: Vec<_> = std::fs::read_dir(&deleg).unwrap().flatten().filter(|e| e.path().is_dir()).collect();
        assert_eq!(left.len(), 1, "only the caller's own leaf remains: {left:?}");
    } else {
        assert!(result.starts_with("RESULT err") && result.contains("Hint"), "{lines:?}");
    }
}

/// Makes `deleg` a cgroup owned by nobody, with the controllers available to it, and `leaf`
/// inside it for the caller to live in (a cgroup with processes cannot hand out controllers).
fn delegate(deleg: &Path, leaf: &Path) {
    let root_control = std::fs::read_to_string("/sys/fs/cgroup/cgroup.subtree_control").unwrap();
    for c in ["memory", "pids"] {
        assert!(root_control.contains(c), "the VM's root offers {c}");
    }
    std::fs::create_dir(deleg).unwrap();
    std::fs::create_dir(leaf).unwrap();
    for dir in [deleg, leaf] {
        for file in ["", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"] {
            let path = if file.is_empty() { dir.to_path_buf() } else { dir.join(file) };
            std::os::unix::fs::chown(&path, Some(NOBODY), Some(NOBODY)).unwrap();
        }
    }
}

/// A copy of this test binary that user 65534 can run (the build directory may be private).
fn copy_of_this_binary() -> (PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.path().join("delegation-helper");
    std::fs::copy(std::env::current_exe().unwrap(), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    (bin, dir)
}

/// Removes the delegated cgroup and anything left below it.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Ok(entries) = std::fs::read_dir(&self.0) {
            for e in entries.flatten().filter(|e| e.path().is_dir()) {
                let _ = std::fs::remove_dir(e.path());
            }
        }
        let _ = std::fs::remove_dir(&self.0);
    }
}
