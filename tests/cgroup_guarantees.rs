//! Guarantees, not only caps: memory protection (v2 `memory.min`/`memory.low`, refused by name
//! on v1) holds against a neighbour under the same parent, a CPU burst lets a capped sandbox
//! spend quota it saved up, and the exit report counts the events. Root only.
mod common;
#[path = "common/cgroup.rs"]
mod test_cgroup;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use common::{ms, require_root};
use isobox::{CgroupError, Command, Error, Mount, Namespaces, Stdio};
use test_cgroup::{v2_memory_mount, TestParent};

const MIB: u64 = 1 << 20;

fn ns() -> Namespaces {
    Namespaces::USER | Namespaces::PID | Namespaces::MOUNT
}

fn sleeper() -> Command {
    let mut sleep = Command::new("sleep");
    sleep.arg("100");
    sleep
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{dir:?}/{file}: {e}")).trim().to_string()
}

#[test]
fn memory_protections_are_in_force_on_v2_and_refused_by_name_on_v1() {
    if !require_root() {
        return;
    }
    let parent = TestParent::new("protect-file");
    for (limit, file) in [("memory min", "memory.min"), ("memory low", "memory.low")] {
        let mut b = parent.builder(ns());
        match limit {
            "memory min" => b.memory_min(32 * MIB + 100),
            _ => b.memory_low(32 * MIB + 100),
        };
        let spawned = b.build().unwrap().spawn(&sleeper());
        match (v2_memory_mount(), spawned) {
            (Some(_), Ok(mut child)) => {
                let dir = child.cgroup_dirs()[0].to_path_buf();
                assert_eq!(read(&dir, file), (32 * MIB).to_string(), "{limit}: rounded down to pages");
                child.kill().unwrap();
                child.wait().unwrap();
            }
            (None, Err(Error::Cgroup(CgroupError::Unsupported { limit: named, version, reason }))) => {
                assert_eq!((named, version), (limit, "v1"));
                assert!(reason.contains("no memory protection"), "{reason}");
            }
            (v2, other) => panic!("{limit} (memory on v2: {}): {:?}", v2.is_some(), other.map(|c| c.id())),
        }
    }
    assert!(parent.leftovers().is_empty(), "{:?}", parent.leftovers());
}

#[test]
fn a_burst_lets_a_capped_sandbox_that_idled_spend_the_quota_it_saved() {
    if !require_root() {
        return;
    }
    let parent = TestParent::new("burst");
    // A tenth of a CPU: 10 ms per 100 ms period. After idling, the first busy period may run
    // 10 ms more on the burst; without one it never runs beyond the quota.
    let mut counts = Vec::new();
    for burst in [Some(ms(10)), None] {
        let mut b = parent.builder(ns());
        b.cpu_max(0.1);
        if let Some(burst) = burst {
            b.cpu_max_burst(burst);
        }
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "sleep 0.3; while :; do :; done"]);
        let mut child = match b.build().unwrap().spawn(&cmd) {
            // A kernel before 5.14 has no burst file: the spawn fails naming it.
            Err(Error::Cgroup(CgroupError::Write { limit: "cpu max burst", source, .. }))
                if source.raw_os_error() == Some(libc::ENOENT) =>
            {
                return println!("this kernel has no cpu max burst (Linux 5.14+): refused by name");
            }
            other => other.unwrap(),
        };
        if burst.is_some() {
            let dirs = child.cgroup_dirs();
            let shown = dirs.iter().find_map(|d| {
                ["cpu.max.burst", "cpu.cfs_burst_us"].iter().find(|f| d.join(f).exists()).map(|f| read(d, f))
            });
            assert_eq!(shown.as_deref(), Some("10000"), "{dirs:?}");
        }
        std::thread::sleep(ms(900));
        let live = child.cgroup_stats().unwrap();
        child.kill().unwrap();
        let report = child.wait().unwrap();
        assert!(live.cpu_throttled_periods.unwrap() > 0, "{live:?}");
        counts.push((live.cpu_bursts, report.cgroup.unwrap().cpu_bursts));
    }
    let ((with_live, with_final), (without_live, _)) = (counts[0], counts[1]);
    assert!(with_live.unwrap() >= 1 && with_final >= with_live, "with a burst: {counts:?}");
    assert_eq!(without_live, Some(0), "without: {counts:?}");
    assert!(parent.leftovers().is_empty(), "{:?}", parent.leftovers());
}

#[test]
fn a_burst_without_a_quota_or_above_it_fails_at_build() {
    let mut b = isobox::Sandbox::builder();
    let err = b.cpu_max_burst(ms(5)).build().unwrap_err();
    assert!(err.to_string().contains("needs cpu_max"), "{err}");
    let err = b.cpu_max(0.1).cpu_max_burst(ms(11)).build().unwrap_err();
    assert!(err.to_string().contains("10000 µs"), "{err}");
}

/// Maps `file` and reads a byte of every page, so the pages are charged to the process's
/// cgroup as page cache (in the VM, over 9p, only mapped pages are cached). `hold`: once,
/// then it says so and keeps the mapping; a number: that many passes.
const TOUCHER: &str = "import mmap, sys, time
f = open(sys.argv[1], 'rb')
m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
def touch():
    s = 0
    for i in range(0, len(m), 4096): s += m[i]
if sys.argv[2] == 'hold':
    touch(); print('ready', flush=True); time.sleep(1000)
else:
    for _ in range(int(sys.argv[2])): touch()
";

fn toucher(file: &Path, mode: &str) -> Command {
    let mut cmd = Command::new("python3");
    cmd.arg("-c").arg(TOUCHER).arg(file).arg(mode);
    cmd
}

/// Sparse files in the target's scratch directory (the VM's working-directory share, where
/// mapped pages are cached), readable by the sandbox's ids.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new() -> Scratch {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        Scratch(dir)
    }

    /// Makes the file and returns its path in the sandbox, under [`SCRATCH`].
    fn sparse_file(&self, name: &str, bytes: u64) -> PathBuf {
        std::fs::File::create(self.0.path().join(name)).unwrap().set_len(bytes).unwrap();
        Path::new(SCRATCH).join(name)
    }

    /// A builder under `parent` whose sandboxes see the files.
    fn builder(&self, parent: &TestParent) -> isobox::SandboxBuilder {
        let mut b = parent.builder(ns());
        b.mount(Mount::bind_ro(self.0.path(), SCRATCH));
        b
    }
}

/// Where sandboxes see the scratch files.
const SCRATCH: &str = "/scratch";

/// What is left of the held sandbox's memory after the neighbour ran, and its memory events.
fn held_after_neighbour(
    parent: &TestParent,
    scratch: &Scratch,
    protect: Option<u64>,
    files: (&Path, &Path),
) -> (u64, u64, u64) {
    let mut held = scratch.builder(parent);
    if let Some(bytes) = protect {
        held.memory_min(bytes);
    }
    let mut cmd = toucher(files.0, "hold");
    cmd.stdout(Stdio::piped());
    let mut child = held.build().unwrap().spawn(&cmd).unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    let before = child.cgroup_stats().unwrap().memory_current_bytes.unwrap();
    let neighbour = scratch.builder(parent).build().unwrap().status(&toucher(files.1, "2")).unwrap();
    assert!(neighbour.success(), "{neighbour:?}");
    let after = child.cgroup_stats().unwrap().memory_current_bytes.unwrap();
    child.kill().unwrap();
    let events = child.wait().unwrap().cgroup.unwrap();
    assert_eq!(events.memory_oom_events, Some(0), "{events:?}");
    (before, after, events.memory_low_events.unwrap())
}

#[test]
fn a_protected_sandbox_keeps_its_memory_while_a_neighbour_under_the_same_parent_reclaims() {
    if !require_root() {
        return;
    }
    let parent = TestParent::new("protect");
    let Some(mount) = v2_memory_mount() else {
        // v1: no protection to test, and none pretended (the refusal is tested above).
        let err = parent.builder(ns()).memory_min(MIB).build().unwrap().spawn(&sleeper()).unwrap_err();
        assert!(matches!(err, Error::Cgroup(CgroupError::Unsupported { limit: "memory min", .. })), "{err}");
        return;
    };
    // The parent is the test's: 128 MiB for a sandbox holding 48 MiB of page cache and a
    // neighbour reading 192 MiB, twice.
    let dir = mount.join(&parent.name[1..]);
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("memory.max"), (128 * MIB).to_string()).unwrap();
    let scratch = Scratch::new();
    let (held, read) = (scratch.sparse_file("held", 48 * MIB), scratch.sparse_file("read", 192 * MIB));

    let (before, after, _) = held_after_neighbour(&parent, &scratch, Some(64 * MIB), (&held, &read));
    println!("protected: {} MiB before, {} MiB after", before / MIB, after / MIB);
    assert!(before >= 48 * MIB && after >= before * 9 / 10, "protected: {before} before, {after} after");
    // The same without protection: the neighbour's reading takes most of it (so the pressure
    // above was real).
    let (before, after, low_events) = held_after_neighbour(&parent, &scratch, None, (&held, &read));
    println!("unprotected: {} MiB before, {} MiB after", before / MIB, after / MIB);
    assert!(after < before / 2, "unprotected: {before} before, {after} after");
    assert_eq!(low_events, 0, "no memory.low, no low event");
    assert!(parent.leftovers().is_empty(), "{:?}", parent.leftovers());
}

#[test]
fn memory_high_events_reach_the_exit_report() {
    if !require_root() {
        return;
    }
    let parent = TestParent::new("high");
    let Some(_) = v2_memory_mount() else {
        // v1 has no memory.high, so no events to count: the limit is refused by name.
        let err = parent.builder(ns()).memory_high(16 * MIB).build().unwrap().spawn(&sleeper()).unwrap_err();
        assert!(matches!(err, Error::Cgroup(CgroupError::Unsupported { limit: "memory high", .. })), "{err}");
        return;
    };
    let scratch = Scratch::new();
    let file = scratch.sparse_file("read", 48 * MIB);
    // 48 MiB of page cache against a 16 MiB high mark: the kernel reclaims on the way.
    let sb = scratch.builder(&parent).memory_high(16 * MIB).build().unwrap();
    let report = sb.status(&toucher(&file, "1")).unwrap();
    let cg = report.cgroup.unwrap();
    assert!(report.success() && cg.memory_high_events.unwrap() > 0 && cg.limit_hit(), "{report:?}");
    assert!(parent.leftovers().is_empty(), "{:?}", parent.leftovers());
}

#[test]
fn the_largest_memory_values_are_the_kernels_cap_not_a_read_back_failure() {
    if !require_root() {
        return;
    }
    let parent = TestParent::new("largest");
    let mut b = parent.builder(ns());
    b.memory_max(u64::MAX);
    if v2_memory_mount().is_some() {
        b.memory_min(u64::MAX).memory_low(u64::MAX);
    }
    let report = b.build().unwrap().status(&Command::new("/bin/true")).unwrap();
    assert!(report.success(), "{report:?}");
    assert!(parent.leftovers().is_empty(), "{:?}", parent.leftovers());
}
