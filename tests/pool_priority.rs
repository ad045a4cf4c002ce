//! The pool thread: a pool's set-up runs at the lowest CPU priority where the command can be
//! given the caller's back, the command itself always at the caller's scheduling (policy and
//! nice), whichever way the pool serves it; and an empty pool's spawn never waits for a whole
//! refill.
mod common;

use std::time::{Duration, Instant};

use common::{is_root, require, require_root, require_userns, sandbox};
use isobox::{Command, Namespaces, Sandbox, Stdio};

const SCHED_IDLE: u32 = 5;
const SCHED_BATCH: u32 = 3;

/// A process's scheduling as /proc shows it: (policy, nice).
fn scheduling(stat_path: &str) -> (u32, i32) {
    let stat = std::fs::read_to_string(stat_path).unwrap();
    let fields: Vec<&str> = stat.rsplit(") ").next().unwrap().split_whitespace().collect();
    // After the command name: field 3 (state) is index 0, so nice (19) is 16, policy (41) is 38.
    (fields[38].parse().unwrap(), fields[16].parse().unwrap())
}

fn sleeper() -> Command {
    let mut cmd = Command::new("/bin/sleep");
    cmd.arg("1000").stdout(Stdio::null());
    cmd
}

/// The CPUs a process or thread may run on (`Cpus_allowed_list` of its `status`).
fn cpus(status: &str) -> String {
    let status = std::fs::read_to_string(status).unwrap();
    status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:")).unwrap().trim().to_string()
}

/// The names and CPUs of this process's threads of isobox's (`isobox-*`).
fn isobox_threads() -> Vec<(String, String)> {
    let tasks = std::fs::read_dir("/proc/self/task").unwrap().filter_map(|e| e.ok());
    // A thread that ended meanwhile is left out.
    let read = |t: &std::fs::DirEntry, file: &str| std::fs::read_to_string(t.path().join(file)).ok();
    let listed = tasks.filter_map(|t| Some((read(&t, "comm")?, read(&t, "status")?)));
    let ours = listed.filter(|(name, _)| name.starts_with("isobox-"));
    ours.filter_map(|(name, status)| {
        let cpus = status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:"))?.trim().to_string();
        Some((name.trim().to_string(), cpus))
    })
    .collect()
}

/// The other processes of `pid`'s pid namespace (the sandbox's init, holding it).
fn others_in_its_pid_namespace(pid: u32) -> Vec<u32> {
    let ns = std::fs::read_link(format!("/proc/{pid}/ns/pid")).unwrap();
    let pids = std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok());
    pids.filter(|&p| p != pid && std::fs::read_link(format!("/proc/{p}/ns/pid")).is_ok_and(|l| l == ns)).collect()
}

/// Whether isobox lowers its background pool thread here: root with CAP_SYS_NICE (bit 23 of
/// the effective set; a container's root may lack it), not itself under SCHED_IDLE. (A root
/// caller at nice 19 without CAP_SYS_NICE would be lowered too; CI's root has it.)
fn background_thread_is_lowered() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let eff = status.lines().find_map(|l| l.strip_prefix("CapEff:")).unwrap().trim();
    let idle = scheduling("/proc/thread-self/stat").0 == SCHED_IDLE;
    is_root() && u64::from_str_radix(eff, 16).unwrap() & (1 << 23) != 0 && !idle
}

/// Waits until `pool` has a sandbox again (its refill), and says so.
fn until_refilled(pool: &isobox::SandboxPool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while pool.idle() < 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(pool.idle() > 0, "the pool was not refilled within 30 s");
}

#[test]
fn rootless_a_pooled_command_runs_at_the_callers_priority_and_its_sandbox_as_a_batch_task() {
    if !require_userns() {
        return;
    }
    let _quiet = not_busy();
    let caller = scheduling("/proc/thread-self/stat");
    let pool = sandbox(|_| {}).pool(1).unwrap();
    // The first sandbox comes from the pool's creation, which runs at the caller's priority;
    // the second from a refill on the pool thread, in the background.
    let callers_cpus = cpus("/proc/thread-self/status");
    for made_in_background in [false, true] {
        let mut child = pool.spawn(&sleeper()).unwrap();
        assert_eq!(scheduling(&format!("/proc/{}/stat", child.id())), caller, "the command");
        // The lowered thread is pinned to one CPU; what it made for the caller is not.
        assert_eq!(cpus(&format!("/proc/{}/status", child.id())), callers_cpus, "the command's CPUs");
        let others = others_in_its_pid_namespace(child.id());
        assert_eq!(others.len(), 1, "the init holding the sandbox: {others:?}");
        for p in others {
            assert_eq!(cpus(&format!("/proc/{p}/status")), callers_cpus, "the holder's CPUs");
            let (policy, nice) = scheduling(&format!("/proc/{p}/stat"));
            let name = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap();
            if made_in_background && background_thread_is_lowered() {
                // Set up at nice 19, then given SCHED_BATCH at the caller's nice for the
                // sandbox's end: a fair share, and no preemption of the caller.
                let for_exit = (SCHED_BATCH, caller.1);
                assert_eq!((policy, nice), for_exit, "{name} made by the lowered background thread");
            } else {
                assert_eq!((policy, nice), caller, "{name} made at the caller's priority");
            }
        }
        child.kill().unwrap();
        assert_eq!(child.wait().unwrap().signal(), Some(9));
        until_refilled(&pool);
    }
    // The lowered thread itself is pinned to one CPU where the caller has two or more; the
    // threads of isobox's it may have started are not.
    let several = callers_cpus.contains(['-', ',']);
    for (name, its_cpus) in isobox_threads() {
        if name == "isobox-pool-bg" && background_thread_is_lowered() && several {
            assert!(its_cpus.parse::<u32>().is_ok(), "{name} on CPUs {its_cpus}, not on one");
        } else if name != "isobox-probe" {
            assert_eq!(its_cpus, callers_cpus, "{name}'s CPUs");
        }
    }
}

#[test]
fn rootless_a_pooled_command_that_is_its_sandboxs_program_runs_at_the_callers_priority() {
    if !require_userns() {
        return;
    }
    let _quiet = not_busy();
    let caller = scheduling("/proc/thread-self/stat");
    // Without a pid namespace, the command is the sandbox's own program: never made on the
    // lowered thread, neither at the pool's creation nor by a refill.
    let sb = Sandbox::builder().namespaces(Namespaces::USER | Namespaces::MOUNT).build().unwrap();
    let pool = sb.pool(1).unwrap();
    for _ in 0..2 {
        let mut child = pool.spawn(&sleeper()).unwrap();
        assert_eq!(scheduling(&format!("/proc/{}/stat", child.id())), caller);
        child.kill().unwrap();
        child.wait().unwrap();
        until_refilled(&pool);
    }
}

#[test]
fn rootless_an_empty_pools_spawn_runs_at_the_callers_priority() {
    if !require_userns() {
        return;
    }
    let _quiet = not_busy();
    let caller = scheduling("/proc/thread-self/stat");
    let pool = sandbox(|_| {}).pool(1).unwrap();
    pool.set_auto_refill(false);
    let mut first = pool.spawn(&sleeper()).unwrap();
    assert_eq!(pool.idle(), 0);
    // Made on the pool thread while this caller waits, at the caller's priority.
    let started = Instant::now();
    let mut second = pool.spawn(&sleeper()).unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(scheduling(&format!("/proc/{}/stat", second.id())), caller);
    for p in others_in_its_pid_namespace(second.id()) {
        assert_eq!(scheduling(&format!("/proc/{p}/stat")), caller, "process {p} of a sandbox a caller waited for");
    }
    for child in [&mut first, &mut second] {
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

#[test]
fn rootless_isobox_reaps_in_the_background_under_sched_idle() {
    if !require_userns() {
        return;
    }
    let _quiet = not_busy();
    // A pooled command's sandbox is ended after its wait, its init reaped on the reaper thread.
    let pool = sandbox(|_| {}).pool(1).unwrap();
    assert!(pool.status(&Command::new("/bin/true")).unwrap().success());
    // The thread names and lowers itself once it runs: look until it has.
    let deadline = Instant::now() + Duration::from_secs(10);
    let reaper_policy = || {
        let threads = std::fs::read_dir("/proc/self/task").unwrap().filter_map(|t| t.ok()).map(|t| t.path());
        let mut reapers =
            threads.filter(|t| std::fs::read_to_string(t.join("comm")).is_ok_and(|c| c.trim() == "isobox-reaper"));
        reapers.next().map(|t| scheduling(t.join("stat").to_str().unwrap()).0)
    };
    while reaper_policy() != Some(SCHED_IDLE) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(reaper_policy(), Some(SCHED_IDLE), "isobox's reaper thread");
}

#[test]
fn rootless_an_empty_pools_spawn_does_not_wait_for_the_whole_refill() {
    if !require_userns() {
        return;
    }
    let _quiet = not_busy();
    const SIZE: usize = 48;
    let pool = sandbox(|_| {}).pool(SIZE).unwrap();
    let mut running: Vec<isobox::Child> = (0..SIZE).map(|_| pool.spawn(&sleeper()).unwrap()).collect();
    // The refill starts 10 ms after the spawns: wait for its first sandbox, and take it.
    until_refilled(&pool);
    // The refill is under way: take what it makes until a spawn finds the pool empty, which
    // gets a sandbox of its own, made between two of the refill's, not after all of them.
    let mut served_empty = false;
    while !served_empty && running.len() < 2 * SIZE {
        served_empty = pool.idle() == 0;
        running.push(pool.spawn(&sleeper()).unwrap());
    }
    let idle = pool.idle();
    assert!(served_empty, "the refill kept ahead of the spawns");
    assert!(idle < SIZE / 2, "{idle} of {SIZE} made before an empty pool's spawn was served");
    for child in &mut running {
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

/// Held shared by the tests that need the background thread to make progress, and alone by a
/// [`Busy`] machine, under which that thread (nice 19) gets little CPU time.
static MACHINE: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// For a test whose background work must not starve under another test's [`Busy`].
fn not_busy() -> std::sync::RwLockReadGuard<'static, ()> {
    MACHINE.read().unwrap_or_else(|p| p.into_inner())
}

/// Busy loops at the caller's priority on every CPU, `per_cpu` each, until dropped; no other
/// test of this file runs meanwhile.
struct Busy(
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    Vec<std::thread::JoinHandle<()>>,
    #[allow(dead_code)] std::sync::RwLockWriteGuard<'static, ()>,
);

impl Busy {
    fn start(per_cpu: usize) -> Busy {
        let alone = MACHINE.write().unwrap_or_else(|p| p.into_inner());
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let loops = (0..cpus * per_cpu).map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || while !stop.load(std::sync::atomic::Ordering::Relaxed) {})
        });
        Busy(stop.clone(), loops.collect(), alone)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
        self.1.drain(..).for_each(|t| t.join().unwrap());
    }
}

#[test]
fn a_pool_found_empty_on_a_busy_machine_is_refilled_at_the_callers_priority() {
    if !require_root() || !require(background_thread_is_lowered(), "needs CAP_SYS_NICE (isobox lowers its thread)") {
        return;
    }
    const SIZE: usize = 4;
    let busy = Busy::start(4);
    // What a fill at the caller's priority takes on this machine, busy as it is.
    let started = Instant::now();
    let pool = sandbox(|_| {}).pool(SIZE).unwrap();
    let fill_time = started.elapsed();
    // Taken faster than the background thread, which gets little CPU time now, can refill.
    let mut running = Vec::new();
    let mut served_empty = false;
    while !served_empty && running.len() < 4 * SIZE {
        served_empty = pool.idle() == 0;
        running.push(pool.spawn(&sleeper()).unwrap());
    }
    let deadline = Instant::now() + fill_time * 3 + Duration::from_millis(500);
    while pool.idle() < SIZE && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let idle = pool.idle();
    drop(busy);
    for child in &mut running {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    assert!(served_empty, "the background thread kept the pool from running dry");
    assert_eq!(idle, SIZE, "refilled {idle} of {SIZE} within 3x its first fill ({fill_time:?}) + 0.5 s");
}

#[test]
fn what_a_pooled_command_left_running_ends_with_it_on_a_busy_machine() {
    if !require_root() || !require(background_thread_is_lowered(), "needs CAP_SYS_NICE (isobox lowers its thread)") {
        return;
    }
    let pool = sandbox(|_| {}).pool(2).unwrap();
    // The background thread started (by a first command's end) and lowered, idle again; the
    // sandbox the next command takes was made there.
    assert!(pool.status(&Command::new("/bin/true")).unwrap().success());
    std::thread::sleep(Duration::from_millis(200));
    let busy = Busy::start(8);
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "sleep 1000 & read line; exit 0"]).stdin(Stdio::piped());
    let mut child = pool.spawn(&cmd).unwrap();
    let ns = std::fs::read_link(format!("/proc/{}/ns/pid", child.id())).unwrap();
    let in_ns = || {
        let pids =
            std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok());
        let live = |p: &u32| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            stat.rsplit(") ").next().is_some_and(|rest| !rest.starts_with('Z') && !rest.is_empty())
        };
        // What the command left running: isobox's init, exiting, waits in the kernel until
        // the command has been reaped.
        let isobox_own =
            |p: &u32| std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.starts_with("isobox-"));
        pids.filter(|p| {
            std::fs::read_link(format!("/proc/{p}/ns/pid")).is_ok_and(|l| l == ns) && live(p) && !isobox_own(p)
        })
        .count()
    };
    let init = in_ns_named("isobox-init", &ns);
    assert_eq!(init.len(), 1, "the sandbox's init: {init:?}");
    // Made at nice 19 on the background thread, the init was given SCHED_BATCH at the
    // caller's nice for the sandbox's end: neither starved nor preempting the caller.
    let caller_nice = scheduling("/proc/thread-self/stat").1;
    assert_eq!(policy_of(init[0]), Some((SCHED_BATCH, caller_nice)), "the init's policy");
    drop(child.stdin.take()); // the shell ends; its sleep would run on without the sandbox's end
    let ended = Instant::now();
    // No wait yet: the sandbox ends with the command (its init watches it and exits, and the
    // kernel kills the rest).
    while in_ns() > 0 && ended.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(2));
    }
    let took = ended.elapsed();
    let init_ended = killed_or_gone(init[0]);
    drop(busy);
    // Within moments (a few ms on the host, a few hundred and once 2.75 s in the emulated
    // VM, 15-40 times slower), not after the tens of seconds a process at nice 19 may wait
    // for a CPU there. Zombies left for the reaper thread do not count.
    assert!(took < Duration::from_secs(5), "the sandbox's processes lived on {took:?} after the command's exit");
    assert!(init_ended, "the init lives on after the command's exit");
    assert!(child.wait().unwrap().success());
}

/// The host pids of the processes named `name` in the pid namespace `ns`.
fn in_ns_named(name: &str, ns: &std::path::Path) -> Vec<u32> {
    let pids = std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok());
    pids.filter(|p| std::fs::read_link(format!("/proc/{p}/ns/pid")).is_ok_and(|l| l == ns))
        .filter(|p| std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == name))
        .collect()
}

/// The scheduling policy of `pid` (`/proc/<pid>/stat` field 41), if it is still there.
/// `pid`'s (policy, nice), or `None` once it is gone.
fn policy_of(pid: u32) -> Option<(u32, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit(") ").next()?.split_whitespace().collect();
    Some((fields.get(38)?.parse().ok()?, fields.get(16)?.parse().ok()?))
}

/// Whether `pid` has a SIGKILL pending, is exiting (`PF_EXITING` in its stat flags) or dead,
/// or is gone.
fn killed_or_gone(pid: u32) -> bool {
    const PF_EXITING: u64 = 0x4;
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { return true };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // After the ") ": state, ppid, pgrp, session, tty, tpgid, flags.
    let flags = stat.rsplit(") ").next().and_then(|rest| rest.split(' ').nth(6)?.parse::<u64>().ok());
    if flags.is_some_and(|f| f & PF_EXITING != 0) {
        return true;
    }
    let field = |key: &str| status.lines().find_map(|l| l.strip_prefix(key)).unwrap_or("").trim().to_string();
    let has_kill =
        |key: &str| u64::from_str_radix(&field(key), 16).is_ok_and(|mask| mask & (1 << (libc::SIGKILL - 1)) != 0);
    let state = field("State:");
    state.starts_with('Z') || state.starts_with('X') || has_kill("SigPnd:") || has_kill("ShdPnd:")
}
