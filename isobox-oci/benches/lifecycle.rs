//! create + start + wait + delete of one bundle (busybox `true`), for isobox-oci and, where
//! installed, runc and crun, in one run and in turns (so that a busy moment of the machine
//! falls on all of them). The bench process is a child subreaper, as containerd's shim is,
//! and reaps each container itself: "wait" is its exit, as the shim sees it.
//!
//! `cargo bench -p isobox-oci --bench lifecycle` (root; ISOBOX_OCI_BENCH_RUNS, default 200).
//! The table is what BENCHMARKS.md records.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

const ISOBOX: &str = env!("CARGO_BIN_EXE_isobox-oci");

fn main() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("lifecycle bench: needs root (runc and crun run as root here); skipped");
        return;
    }
    nix::sys::prctl::set_child_subreaper(true).expect("PR_SET_CHILD_SUBREAPER");
    let runs: usize = std::env::var("ISOBOX_OCI_BENCH_RUNS").ok().and_then(|n| n.parse().ok()).unwrap_or(200);
    let bundle = tempfile::Builder::new().prefix("isobox-oci-bench").tempdir().unwrap();
    make_bundle(bundle.path());
    let runtimes: Vec<(&str, PathBuf)> =
        [("isobox-oci", PathBuf::from(ISOBOX)), ("crun", "/usr/bin/crun".into()), ("runc", "/usr/sbin/runc".into())]
            .into_iter()
            .filter(|(_, p)| p.exists())
            .collect();
    let state = tempfile::Builder::new().prefix("isobox-oci-bench-state").tempdir().unwrap();
    // One warm-up each: a runtime that cannot run here is left out, with its reason (crun
    // refuses a hybrid cgroup host), but isobox-oci must run.
    let runtimes: Vec<(&str, PathBuf)> = runtimes
        .into_iter()
        .filter(|(name, path)| match lifecycle(path, &state.path().join(name), bundle.path(), "bench-warm") {
            Ok(_) => true,
            Err(e) if *name != "isobox-oci" => {
                println!("{name}: left out, it cannot run here: {}", e.trim());
                false
            }
            Err(e) => panic!("isobox-oci: {e}"),
        })
        .collect();
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); runtimes.len()];
    for round in 0..runs {
        for (i, (name, path)) in runtimes.iter().enumerate() {
            let root = state.path().join(name);
            let took = lifecycle(path, &root, bundle.path(), &format!("bench-{round}"))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            times[i].push(took);
        }
    }
    println!("| runtime | p50 | p90 | mean | runs |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for ((name, _), t) in runtimes.iter().zip(&mut times) {
        t.sort();
        let mean = t.iter().sum::<Duration>() / t.len() as u32;
        let at = |q: f64| t[((t.len() as f64 * q) as usize).min(t.len() - 1)];
        println!("| {name} | {:.2} ms | {:.2} ms | {:.2} ms | {} |", ms(at(0.5)), ms(at(0.9)), ms(mean), t.len());
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One container's life, timed: create, start, its exit (reaped here), delete.
fn lifecycle(runtime: &Path, root: &Path, bundle: &Path, id: &str) -> Result<Duration, String> {
    let started = Instant::now();
    let lived = live(runtime, root, bundle, id);
    if lived.is_err() {
        let _ = run(runtime, root, &["delete", "--force", id]); // nothing left held on a failure
    }
    lived.map(|()| started.elapsed())
}

fn live(runtime: &Path, root: &Path, bundle: &Path, id: &str) -> Result<(), String> {
    let pid_file = bundle.join("pid");
    let create = ["create", "--bundle", bundle.to_str().unwrap(), "--pid-file", pid_file.to_str().unwrap(), id];
    run(runtime, root, &create)?;
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .map_err(|e| e.to_string())?
        .trim()
        .parse()
        .map_err(|e| format!("pid file: {e}"))?;
    run(runtime, root, &["start", id])?;
    match waitpid(Pid::from_raw(pid), None) {
        Ok(WaitStatus::Exited(_, 0)) => {}
        other => return Err(format!("the container ended with {other:?}")),
    }
    run(runtime, root, &["delete", id])
}

/// Runs one command of `runtime`. Its stderr goes to a file: the container inherits create's
/// stdio, and a pipe would stay open as long as the container runs.
fn run(runtime: &Path, root: &Path, args: &[&str]) -> Result<(), String> {
    let err_path = root.with_extension("stderr");
    let err = std::fs::File::create(&err_path).map_err(|e| e.to_string())?;
    let status = Command::new(runtime)
        .arg("--root")
        .arg(root)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err)
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{args:?}: {}", std::fs::read_to_string(&err_path).unwrap_or_default()))
    }
}

/// busybox as the rootfs and a config every runtime takes: the usual namespaces and mounts,
/// no cgroup limits, no seccomp (so each is measured doing the same work).
fn make_bundle(dir: &Path) {
    let rootfs = dir.join("rootfs");
    for d in ["bin", "proc", "dev", "sys", "tmp"] {
        std::fs::create_dir_all(rootfs.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).expect("busybox-static");
    std::os::unix::fs::symlink("busybox", rootfs.join("bin/true")).unwrap();
    let config = serde_json::json!({
        "ociVersion": "1.0.2",
        "process": {"user": {"uid": 0, "gid": 0}, "args": ["/bin/true"], "env": ["PATH=/bin"], "cwd": "/",
            "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
            "noNewPrivileges": true},
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "bench",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
        ],
        "linux": {"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
            "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"]}
    });
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
}
