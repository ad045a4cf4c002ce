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
    let mut b = Sandbox::builder();
    b.namespaces(Namespaces::USER | Namespaces::PID | Namespaces::MOUNT).pids_max(16).cgroup_parent(&parent);
    if std::env::var_os("ISOBOX_DELEGATED_PIDS_ONLY").is_none() {
        b.memory_max(64 << 20);
    }
    let sb = b.build().unwrap();
    match sb.status(&Command::new("/bin/true")) {
        Ok(report) => println!("RESULT ok {:?}", report.cgroup.map(|c| c.memory_peak_bytes.is_some())),
        Err(e) => println!("RESULT err {e}"),
    }
    // What the doctor says of this caller's cgroup, and what a limit without cgroup_parent()
    // does (a delegated cgroup is used only when passed).
    println!("DOCTOR {}", isobox::doctor().state(isobox::Check::CgroupDelegation));
    let unparented = Sandbox::builder().namespaces(Namespaces::USER).pids_max(16).build().unwrap();
    match unparented.status(&Command::new("/bin/true")) {
        Ok(_) => println!("UNPARENTED ran"),
        Err(isobox::Error::Cgroup(isobox::CgroupError::NoDelegation { .. })) => println!("UNPARENTED no delegation"),
        Err(e) => println!("UNPARENTED err {e}"),
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
    let (ok, result, lines) = run_as_caller(&format!("/{name}"), &leaf, v2, false);
    assert!(ok, "the caller failed: {lines:?}");
    let said = |key: &str| lines.iter().find_map(|l| l.find(key).map(|at| l[at + key.len()..].to_string()));
    // The doctor tells the caller its delegated cgroup needs passing; without it, limits fail.
    let doctor = if v2 { "needs set-up" } else { "forbidden" };
    assert_eq!(said("DOCTOR ").as_deref(), Some(doctor), "{lines:?}");
    assert_eq!(said("UNPARENTED ").as_deref(), Some("no delegation"), "{lines:?}");
    if v2 {
        assert_eq!(result, "RESULT ok Some(true)", "the sandbox ran in the delegated subtree with its limits");
        let left: Vec<_> = std::fs::read_dir(&deleg).unwrap().flatten().filter(|e| e.path().is_dir()).collect();
        assert_eq!(left.len(), 1, "only the caller's own leaf remains: {left:?}");
    } else {
        assert!(result.starts_with("RESULT err") && result.contains("Hint"), "{lines:?}");
    }
}

/// Runs the helper as user 65534, placed in `leaf` (v2), with `parent` as its cgroup parent:
/// whether it exited well, its RESULT line, and all its lines.
fn run_as_caller(parent: &str, leaf: &Path, v2: bool, pids_only: bool) -> (bool, String, Vec<String>) {
    let (bin, _dir) = copy_of_this_binary();
    let mut cmd = std::process::Command::new(&bin);
    cmd.args(["helper_unprivileged_caller", "--exact", "--ignored", "--nocapture", "--test-threads=1"]);
    cmd.env("ISOBOX_DELEGATED_PARENT", parent).uid(NOBODY).gid(NOBODY).current_dir("/");
    if pids_only {
        cmd.env("ISOBOX_DELEGATED_PIDS_ONLY", "1");
    }
    // Killed and reaped if the test fails before waiting for it (dropped before the caller's
    // cleanup, so the cgroup it was placed in is empty by then).
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut helper = common::KillOnDrop(spawn_fresh_copy(&mut cmd));
    if v2 {
        std::fs::write(leaf.join("cgroup.procs"), helper.id().to_string()).unwrap();
    }
    writeln!(helper.stdin.take().unwrap(), "go").unwrap();
    let out = BufReader::new(helper.stdout.take().unwrap());
    let lines: Vec<String> = out.lines().map_while(Result::ok).collect();
    // libtest prints the test's name on the same line, before the helper's own output.
    let result = lines.iter().find_map(|l| l.find("RESULT").map(|at| l[at..].to_string())).unwrap_or_default();
    (helper.wait().unwrap().success(), result, lines)
}

/// A delegation without memory: the root-owned cgroup above the delegated one hands it pids
/// only. A sandbox that asks for pids only must run there; memory's figures are skipped, not
/// turned on above the delegation (which the caller may not, and need not, do).
#[test]
fn a_delegation_without_memory_runs_a_sandbox_that_asks_only_for_pids() {
    if !common::require_root() {
        return;
    }
    if !Path::new("/sys/fs/cgroup/cgroup.subtree_control").exists() {
        println!("skipped: needs a pure cgroup v2 host (run it in the VM)");
        return;
    }
    let name = format!("isobox-deleg-nomem-{}", std::process::id());
    let above = Path::new("/sys/fs/cgroup").join(&name);
    let _cleanup = Cleanup(above.clone());
    std::fs::create_dir(&above).unwrap();
    std::fs::write(above.join("cgroup.subtree_control"), "+pids").unwrap();
    let (deleg, leaf) = (above.join("d"), above.join("d/caller"));
    delegate(&deleg, &leaf);
    let offered = std::fs::read_to_string(deleg.join("cgroup.controllers")).unwrap();
    assert_eq!(offered.trim(), "pids", "the delegation offers pids only");
    let (ok, result, lines) = run_as_caller(&format!("/{name}/d"), &leaf, true, true);
    assert!(ok, "the caller failed: {lines:?}");
    assert_eq!(result, "RESULT ok Some(false)", "ran with its pids limit, without memory figures: {lines:?}");
    let above_control = std::fs::read_to_string(above.join("cgroup.subtree_control")).unwrap();
    assert_eq!(above_control.trim(), "pids", "nothing was turned on above the delegation");
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

/// Spawns `cmd`, whose program was just written: a process forked meanwhile by another test's
/// thread holds the copy open for writing until it execs, and exec fails with ETXTBSY until
/// then.
fn spawn_fresh_copy(cmd: &mut std::process::Command) -> std::process::Child {
    for _ in 0..100 {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => std::thread::sleep(common::ms(10)),
            other => return other.unwrap(),
        }
    }
    panic!("the copy of the test binary stayed busy for a second")
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

/// Removes the delegated cgroup and anything left below it, deepest first.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        fn remove_tree(dir: &Path) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten().filter(|e| e.path().is_dir()) {
                remove_tree(&e.path());
            }
            let _ = std::fs::remove_dir(dir);
        }
        remove_tree(&self.0);
    }
}
