//! The pool thread: a pool's set-up runs at the lowest CPU priority where the command can be
//! given the caller's back, the command itself always at the caller's scheduling (policy and
//! nice), whichever way the pool serves it; and an empty pool's spawn never waits for a whole
//! refill.
mod common;

use std::time::{Duration, Instant};

use common::{is_root, require_userns, sandbox};
use isobox::{Command, Namespaces, Sandbox, Stdio};

const SCHED_IDLE: u32 = 5;

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

/// The other processes of `pid`'s pid namespace (the sandbox's init and waiter).
fn others_in_its_pid_namespace(pid: u32) -> Vec<u32> {
    let ns = std::fs::read_link(format!("/proc/{pid}/ns/pid")).unwrap();
    let pids = std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok());
    pids.filter(|&p| p != pid && std::fs::read_link(format!("/proc/{p}/ns/pid")).is_ok_and(|l| l == ns)).collect()
}

/// Whether this process may take a thread back from SCHED_IDLE: root (CAP_SYS_NICE), or an
/// RLIMIT_NICE that allows nice 0 (20). `None`: this test cannot say.
fn may_go_back_from_idle() -> Option<bool> {
    let (soft, _) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NICE).unwrap();
    match (is_root(), soft) {
        (true, _) => Some(true),
        (false, 0) => Some(false),
        _ => None,
    }
}

#[test]
fn rootless_a_pooled_command_runs_at_the_callers_priority_and_its_sandbox_below_it() {
    if !require_userns() {
        return;
    }
    let caller = scheduling("/proc/thread-self/stat");
    let pool = sandbox(|_| {}).pool(1).unwrap();
    // The first sandbox comes from the pool's creation, which runs at the caller's priority;
    // the second from a refill on the pool thread, in the background.
    for made_in_background in [false, true] {
        let mut child = pool.spawn(&sleeper()).unwrap();
        assert_eq!(scheduling(&format!("/proc/{}/stat", child.id())), caller, "the command");
        let others = others_in_its_pid_namespace(child.id());
        assert_eq!(others.len(), 2, "the init and the waiter holding the sandbox: {others:?}");
        for p in others {
            let (policy, nice) = scheduling(&format!("/proc/{p}/stat"));
            let name = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap();
            match (name.trim(), made_in_background, may_go_back_from_idle()) {
                (_, false, _) => assert_eq!((policy, nice), caller, "{name} made at the caller's priority"),
                (_, true, Some(true)) => assert_eq!(policy, SCHED_IDLE, "{name} made by the lowered pool thread"),
                (_, true, Some(false)) => assert_eq!((policy, nice), caller, "{name}: the pool thread cannot go back"),
                (_, true, None) => eprintln!("RLIMIT_NICE is set: not checking {name}"),
            }
        }
        child.kill().unwrap();
        assert_eq!(child.wait().unwrap().signal(), Some(9));
        let deadline = Instant::now() + Duration::from_secs(10);
        while pool.idle() < 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

#[test]
fn rootless_a_pooled_command_that_is_its_sandboxs_program_runs_at_the_callers_priority() {
    if !require_userns() {
        return;
    }
    let caller = scheduling("/proc/thread-self/stat");
    // Without a pid namespace, the command is the sandbox's own program: made at the caller's.
    let sb = Sandbox::builder().namespaces(Namespaces::USER | Namespaces::MOUNT).build().unwrap();
    let pool = sb.pool(1).unwrap();
    let mut child = pool.spawn(&sleeper()).unwrap();
    assert_eq!(scheduling(&format!("/proc/{}/stat", child.id())), caller);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn rootless_an_empty_pools_spawn_runs_at_the_callers_priority() {
    if !require_userns() {
        return;
    }
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
    // A pooled command's sandbox is ended after its wait, its init reaped on the reaper thread.
    let pool = sandbox(|_| {}).pool(1).unwrap();
    assert!(pool.status(&Command::new("/bin/true")).unwrap().success());
    let threads = std::fs::read_dir("/proc/self/task").unwrap().filter_map(|t| t.ok());
    let reaper = threads
        .map(|t| t.path())
        .find(|t| std::fs::read_to_string(t.join("comm")).is_ok_and(|c| c.trim() == "isobox-reaper"))
        .expect("isobox's reaper thread");
    assert_eq!(scheduling(reaper.join("stat").to_str().unwrap()).0, SCHED_IDLE);
}

#[test]
fn rootless_an_empty_pools_spawn_does_not_wait_for_the_whole_refill() {
    if !require_userns() {
        return;
    }
    const SIZE: usize = 48;
    let pool = sandbox(|_| {}).pool(SIZE).unwrap();
    let mut running: Vec<isobox::Child> = (0..SIZE).map(|_| pool.spawn(&sleeper()).unwrap()).collect();
    // The refill starts 10 ms after the spawns: wait for its first sandbox, and take it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while pool.idle() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
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
