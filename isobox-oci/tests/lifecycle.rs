//! The runtime's commands as containerd's shim and the runtime-tools suite call them: create
//! leaves the container held, start runs it, state follows it, kill and delete end it, and
//! nothing is left behind. The test process is a child subreaper, as the shim is, so the
//! container is reparented to it and its exit status can be read.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Once;
use std::time::{Duration, Instant};

use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use serde_json::{json, Value};

/// The runtime under test: `isobox-oci` beside this test binary if there is one (CI's
/// rootless stage copies both out of a target directory its user may not traverse), else
/// cargo's.
fn runtime() -> PathBuf {
    let beside = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|d| d.join("isobox-oci")));
    beside.filter(|p| p.is_file()).unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_isobox-oci")))
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Skips with a printed reason, or fails under ISOBOX_REQUIRE_PRIVILEGES=1 (CI).
fn require(ok: bool, why: &str) -> bool {
    if !ok && std::env::var("ISOBOX_REQUIRE_PRIVILEGES").as_deref() == Ok("1") {
        panic!("ISOBOX_REQUIRE_PRIVILEGES=1, but this test cannot run: {why}");
    }
    if !ok {
        eprintln!("skipped: {why}");
    }
    ok
}

fn subreaper() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| nix::sys::prctl::set_child_subreaper(true).expect("PR_SET_CHILD_SUBREAPER"));
}

/// A bundle: busybox as the rootfs, and `config` (merged over a runc-like default). Every
/// container created from it is deleted (`--force`) when it goes, so that a failed test
/// leaves no held container behind.
struct Bundle {
    dir: tempfile::TempDir,
    root: PathBuf,
    created: std::cell::RefCell<Vec<String>>,
}

impl Drop for Bundle {
    fn drop(&mut self) {
        for id in self.created.borrow().iter() {
            let _ = self.run(&["delete", "--force", id]);
        }
    }
}

impl Bundle {
    fn new(args: &[&str], tweak: impl FnOnce(&mut Value)) -> Bundle {
        let dir = tempfile::Builder::new().prefix("isobox-oci-test").tempdir().unwrap();
        let rootfs = dir.path().join("rootfs");
        for d in ["bin", "proc", "dev", "sys", "tmp"] {
            std::fs::create_dir_all(rootfs.join(d)).unwrap();
        }
        std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).expect("busybox-static (/bin/busybox)");
        for applet in ["sh", "echo", "cat", "sleep", "hostname", "id", "ls", "touch", "true"] {
            std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
        }
        let mut config = default_config(args);
        tweak(&mut config);
        std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
        let root = dir.path().join("state");
        if !is_root() {
            // A rootless caller's files: let the container's mapped root read them.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Bundle { dir, root, created: Default::default() }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = std::process::Command::new(runtime());
        cmd.arg("--root").arg(&self.root).args(args);
        cmd.output().unwrap()
    }

    /// `create`, with the container's stdout going to `out` in the bundle and stderr to `err`
    /// (files: the container holds them after create has exited, a pipe would never end).
    fn create(&self, id: &str) -> Output {
        self.created.borrow_mut().push(id.to_string());
        let out = std::fs::File::create(self.path().join("out")).unwrap();
        let err_path = self.path().join("err");
        let err = std::fs::File::create(&err_path).unwrap();
        let pid_file = self.path().join("pid");
        let mut cmd = std::process::Command::new(runtime());
        cmd.arg("--root").arg(&self.root).arg("create").arg("--bundle").arg(self.path());
        cmd.arg("--pid-file").arg(&pid_file).arg(id);
        cmd.stdout(out).stderr(err).stdin(std::process::Stdio::null());
        let status = cmd.status().unwrap();
        Output { status, stdout: Vec::new(), stderr: std::fs::read(err_path).unwrap() }
    }

    fn state(&self, id: &str) -> Value {
        let out = self.run(&["state", id]);
        assert!(out.status.success(), "state: {}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn output(&self) -> String {
        std::fs::read_to_string(self.path().join("out")).unwrap()
    }
}

fn default_config(args: &[&str]) -> Value {
    let mut namespaces = vec![
        json!({"type": "pid"}),
        json!({"type": "network"}),
        json!({"type": "ipc"}),
        json!({"type": "uts"}),
        json!({"type": "mount"}),
    ];
    let mut linux = json!({"maskedPaths": ["/proc/kcore", "/sys/firmware"], "readonlyPaths": ["/proc/sys"]});
    if !is_root() {
        namespaces.push(json!({"type": "user"}));
        let (uid, gid) = (nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw());
        linux["uidMappings"] = json!([{"containerID": 0, "hostID": uid, "size": 1}]);
        linux["gidMappings"] = json!([{"containerID": 0, "hostID": gid, "size": 1}]);
    }
    linux["namespaces"] = json!(namespaces);
    json!({
        "ociVersion": "1.0.2",
        "process": {"user": {"uid": 0, "gid": 0}, "args": args, "env": ["PATH=/bin"], "cwd": "/"},
        "root": {"path": "rootfs"},
        "hostname": "box",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]}
        ],
        "linux": linux,
    })
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn wait_exit(pid: i32) -> i32 {
    match waitpid(Pid::from_raw(pid), None).unwrap() {
        WaitStatus::Exited(_, code) => code,
        WaitStatus::Signaled(_, sig, _) => 128 + sig as i32,
        other => panic!("{other:?}"),
    }
}

fn wait_status(b: &Bundle, id: &str, want: &str) {
    let until = Instant::now() + Duration::from_secs(10);
    while b.state(id)["status"] != want {
        assert!(Instant::now() < until, "{id} never became {want}: {}", b.state(id));
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn lifecycle(b: &Bundle, id: &str) {
    subreaper();
    let out = b.create(id);
    assert!(out.status.success(), "create: {}", text(&out.stderr));
    let state = b.state(id);
    assert_eq!(state["status"], "created", "{state}");
    let pid = state["pid"].as_i64().unwrap() as i32;
    assert_eq!(std::fs::read_to_string(b.path().join("pid")).unwrap(), pid.to_string());
    assert_eq!(state["bundle"], b.path().to_str().unwrap());
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(b.output(), "", "the program ran before start");
    let started = b.run(&["start", id]);
    assert!(started.status.success(), "start: {}", text(&started.stderr));
    assert_eq!(wait_exit(pid), 3, "the container's exit status, reaped as the shim would");
    assert_eq!(b.state(id)["status"], "stopped");
    assert_eq!(b.output(), "hello from box as 0\n");
    let again = b.run(&["start", id]);
    assert!(!again.status.success() && text(&again.stderr).contains("stopped"), "{}", text(&again.stderr));
    let deleted = b.run(&["delete", id]);
    assert!(deleted.status.success(), "delete: {}", text(&deleted.stderr));
    assert!(!b.root.join(id).exists(), "the state is gone");
    let gone = b.run(&["state", id]);
    assert!(!gone.status.success() && text(&gone.stderr).contains("does not exist"));
}

#[test]
fn create_holds_start_runs_and_delete_removes() {
    if !require(is_root(), "needs root on the host (the rootless_ test covers the rest)") {
        return;
    }
    let b = Bundle::new(&["sh", "-c", "echo hello from $(hostname) as $(id -u); exit 3"], |_| {});
    lifecycle(&b, "lifecycle-1");
}

#[test]
fn rootless_create_holds_start_runs_and_delete_removes() {
    // As root this is the test above; CI's rootless stage runs it as an unprivileged user.
    if is_root() {
        eprintln!("skipped as root: the rootless variant runs as an unprivileged user (CI's rootless stage)");
        return;
    }
    let b = Bundle::new(&["sh", "-c", "echo hello from $(hostname) as $(id -u); exit 3"], |_| {});
    lifecycle(&b, "rootless-1");
}

#[test]
fn kill_ends_a_running_container_and_delete_leaves_no_cgroup() {
    if !require(is_root(), "needs root on the host (cgroups)") {
        return;
    }
    subreaper();
    let b = Bundle::new(&["sleep", "100"], |c| {
        c["linux"]["resources"] = json!({"pids": {"limit": 32}});
        // A parent of this test's own: one another test's container shares is left to it.
        c["linux"]["cgroupsPath"] = json!(format!("/isobox-oci-test-{}-kill/kill-1", std::process::id()));
    });
    let id = "kill-1";
    assert!(b.create(id).status.success());
    assert!(b.run(&["start", id]).status.success());
    wait_status(&b, id, "running");
    let pid = b.state(id)["pid"].as_i64().unwrap() as i32;
    let record: Value = serde_json::from_slice(&std::fs::read(b.root.join(id).join("state.json")).unwrap()).unwrap();
    let cgroups: Vec<PathBuf> =
        record["cgroup_dirs"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().into()).collect();
    assert!(!cgroups.is_empty() && cgroups.iter().all(|d| d.exists()), "{record}");
    let refused = b.run(&["delete", id]);
    assert!(!refused.status.success() && text(&refused.stderr).contains("running"), "{}", text(&refused.stderr));
    let ps = b.run(&["ps", "--format", "json", id]);
    assert_eq!(serde_json::from_slice::<Vec<i32>>(&ps.stdout).unwrap(), [pid]);
    assert!(b.run(&["kill", id, "KILL"]).status.success());
    assert_eq!(wait_exit(pid), 128 + 9);
    assert!(b.run(&["delete", id]).status.success());
    assert!(cgroups.iter().all(|d| !d.exists()), "cgroups left: {cgroups:?}");
    assert!(cgroups.iter().all(|d| d.file_name().unwrap() == "kill-1"), "exactly cgroupsPath: {cgroups:?}");
    assert!(cgroups.iter().all(|d| !d.parent().unwrap().exists()), "the parents create made are gone: {cgroups:?}");
    assert!(!b.root.join(id).exists());
}

#[test]
fn delete_refuses_a_created_container_and_force_ends_its_held_process() {
    if !require(is_root(), "needs root on the host") {
        return;
    }
    subreaper();
    let b = Bundle::new(&["touch", "/ran"], |_| {});
    let id = "held-1";
    assert!(b.create(id).status.success());
    let pid = b.state(id)["pid"].as_i64().unwrap() as i32;
    let refused = b.run(&["delete", id]);
    assert!(!refused.status.success() && text(&refused.stderr).contains("created"), "{}", text(&refused.stderr));
    assert_eq!(b.state(id)["status"], "created", "a refused delete changes nothing");
    let deleted = b.run(&["delete", "--force", id]);
    assert!(deleted.status.success(), "{}", text(&deleted.stderr));
    assert_eq!(wait_exit(pid), 128 + 9, "killed while held");
    assert!(!b.path().join("rootfs/ran").exists(), "the held program never ran");
    assert!(!b.root.join(id).exists());
    let forced = b.run(&["delete", "--force", id]);
    assert!(forced.status.success(), "--force on what is gone is no error");
}

/// A change to the default config.
type Tweak = fn(&mut Value);

#[test]
fn rootless_a_config_it_cannot_honour_is_refused_by_field_and_leaves_nothing() {
    let cases: [(&str, Tweak); 5] = [
        ("linux.intelRdt", |c| c["linux"]["intelRdt"] = json!({"closID": "x"})),
        ("memory.swappiness", |c| c["linux"]["resources"] = json!({"memory": {"swappiness": 10}})),
        ("hooks.createContainer", |c| c["hooks"] = json!({"createContainer": [{"path": "/bin/true"}]})),
        ("notify", |c| c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_NOTIFY"})),
        ("\"nosymfollow\"", |c| c["mounts"][4]["options"] = json!(["nosymfollow"])),
    ];
    for (field, tweak) in cases {
        let b = Bundle::new(&["true"], tweak);
        let out = b.create("refused-1");
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains(field), "{field}: {}", text(&out.stderr));
        assert!(!b.root.join("refused-1").exists(), "{field}: no state left");
    }
    // A property no version of the spec has is ignored, as the spec says.
    let b = Bundle::new(&["true"], |c| c["linux"]["fromTheFuture"] = json!(1));
    assert!(b.create("unknown-1").status.success(), "{}", text(&b.create("unknown-2").stderr));
    assert!(b.run(&["delete", "--force", "unknown-1"]).status.success());
    let b = Bundle::new(&["/no/such/program"], |_| {});
    let out = b.create("missing-1");
    assert!(!out.status.success() && text(&out.stderr).contains("not found"), "{}", text(&out.stderr));
    assert!(!b.root.join("missing-1").exists());
}

#[test]
fn rootless_errors_go_to_the_log_as_json_lines() {
    let b = Bundle::new(&["true"], |_| {});
    let log = b.path().join("log.json");
    let out = b.run(&["--log", log.to_str().unwrap(), "--log-format", "json", "start", "nope"]);
    // Global flags after the command's name are the command's: this one is refused.
    assert!(!out.status.success());
    let mut cmd = std::process::Command::new(runtime());
    cmd.args([
        "--root",
        b.root.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
        "start",
        "nope",
    ]);
    assert!(!cmd.output().unwrap().status.success());
    let last: Value = serde_json::from_str(std::fs::read_to_string(&log).unwrap().lines().last().unwrap()).unwrap();
    assert_eq!(last["level"], "error");
    assert!(last["msg"].as_str().unwrap().contains("nope does not exist"), "{last}");
}

/// prestart and createRuntime run at the end of create, poststart after start, poststop after
/// delete, each with the state on stdin; a failing prestart fails create and leaves nothing.
#[test]
fn hooks_get_the_state_at_each_point_and_a_failing_prestart_undoes_create() {
    if !require(is_root(), "needs root on the host") {
        return;
    }
    subreaper();
    let hook = |dir: &Path, name: &str| {
        let file = dir.join(format!("{name}.json"));
        json!({"path": "/bin/sh", "args": ["sh", "-c", format!("cat > {}", file.display())], "timeout": 10})
    };
    let cgroup = format!("/isobox-oci-test-{}-hooks/hooks", std::process::id());
    let b = Bundle::new(&["true"], |c| c["linux"]["cgroupsPath"] = json!(cgroup));
    let dir = b.path().to_path_buf();
    let mut config: Value = serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    config["hooks"] = json!({
        "prestart": [hook(&dir, "prestart")],
        "createRuntime": [hook(&dir, "createRuntime")],
        "poststart": [hook(&dir, "poststart")],
        "poststop": [hook(&dir, "poststop")],
    });
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    let id = "hooks-1";
    let created = b.create(id);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let read = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap()).unwrap()
    };
    let pid = b.state(id)["pid"].clone();
    let pids_dir = Path::new("/sys/fs/cgroup/pids").join(&cgroup[1..]);
    let cgroup_dir = if pids_dir.exists() { pids_dir } else { Path::new("/sys/fs/cgroup").join(&cgroup[1..]) };
    let procs = std::fs::read_to_string(cgroup_dir.join("cgroup.procs")).unwrap();
    assert_eq!(procs.trim(), pid.to_string(), "the held container is in its cgroup");
    for name in ["prestart", "createRuntime"] {
        assert_eq!(
            (read(name)["status"].clone(), read(name)["id"].clone(), read(name)["pid"].clone()),
            (json!("created"), json!(id), pid.clone()),
            "{name}"
        );
    }
    assert!(!dir.join("poststart.json").exists());
    assert!(b.run(&["start", id]).status.success());
    assert_eq!(read("poststart")["status"], "running");
    wait_exit(pid.as_i64().unwrap() as i32);
    assert!(b.run(&["delete", id]).status.success());
    assert_eq!(read("poststop")["status"], "stopped");
    // A prestart that fails: create fails, and no container, state or process is left.
    config["hooks"] = json!({"prestart": [{"path": "/bin/false"}]});
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    let failed = b.create("hooks-2");
    assert!(!failed.status.success() && text(&failed.stderr).contains("prestart[0]"), "{}", text(&failed.stderr));
    assert!(!b.root.join("hooks-2").exists());
    // Its cgroup is gone, so no process of it is left (a cgroup with one cannot be removed).
    assert!(!cgroup_dir.exists(), "{} left", cgroup_dir.display());
}

/// `features` says what this runtime does: the hooks it runs, seccomp, no systemd cgroups.
#[test]
fn rootless_features_say_what_is_implemented() {
    let out = std::process::Command::new(runtime()).arg("features").output().unwrap();
    assert!(out.status.success());
    let f: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(f["hooks"], json!(["prestart", "createRuntime", "poststart", "poststop"]));
    assert_eq!(f["linux"]["seccomp"]["enabled"], true);
    assert_eq!(f["linux"]["cgroup"]["systemd"], false);
    assert!(f["mountOptions"].as_array().unwrap().iter().any(|o| o == "rshared"));
}
