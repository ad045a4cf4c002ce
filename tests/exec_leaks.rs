//! Child::exec leaves nothing behind: no descriptor, zombie, mount or cgroup; and a killed
//! caller takes its exec'd processes along.
mod common;

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use common::{require_root, require_userns, run_alone, sandbox};
use isobox::{Command, Stdio};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Our children, zombies included, from /proc.
fn children() -> Vec<u32> {
    let me = std::process::id().to_string();
    let procs = std::fs::read_dir("/proc").unwrap().flatten();
    let stats = procs.filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok());
    stats
        .filter(|stat| stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().nth(1)) == Some(me.as_str()))
        .filter_map(|stat| stat.split_whitespace().next()?.parse().ok())
        .collect()
}

#[test]
#[ignore = "run alone by rootless_execs_leave_no_descriptor_zombie_or_mount"]
fn alone_execs_leave_no_descriptor_zombie_or_mount() {
    let sb = sandbox(|_| {});
    // One spawn first: isobox keeps one descriptor for the whole process, its init's memfd.
    assert!(sb.status(&Command::new("/bin/true")).unwrap().success());
    let fds = open_fds();
    let mounts = std::fs::read("/proc/self/mountinfo").unwrap();
    let mut first = sb.spawn(Command::new("/bin/sleep").arg("100")).unwrap();
    for _ in 0..20 {
        let mut cmd = Command::new("/bin/true");
        cmd.stdout(Stdio::piped());
        assert!(first.exec(&cmd).unwrap().wait_with_output().unwrap().report.success());
    }
    assert!(first.exec(&Command::new("/no/such/program")).is_err());
    assert!(first.exec(Command::new("/bin/true").uid(4242)).is_err());
    let running = first.exec(Command::new("/bin/sleep").arg("100")).unwrap();
    assert_eq!(children().len(), 2, "the sandbox and the exec'd sleep: {:?}", children());
    first.kill().unwrap();
    first.wait().unwrap();
    drop(running);
    drop(first); // the sandbox's Childs share a copy of its pidfd until the last goes
    drop(sb);
    assert_eq!(children(), Vec::<u32>::new(), "children left");
    let listed: Vec<_> =
        std::fs::read_dir("/proc/self/fd").unwrap().flatten().map(|e| std::fs::read_link(e.path())).collect();
    assert_eq!(open_fds(), fds, "descriptors left: {listed:?}");
    assert!(std::fs::read("/proc/self/mountinfo").unwrap() == mounts, "host mounts changed");
    println!("LEAK-CHECK-DONE");
}

#[test]
fn rootless_execs_leave_no_descriptor_zombie_or_mount() {
    if !require_userns() {
        return;
    }
    run_alone("alone_execs_leave_no_descriptor_zombie_or_mount", "LEAK-CHECK-DONE");
}

#[test]
fn execs_into_a_sandbox_with_limits_leave_no_cgroup() {
    if !require_root() {
        return;
    }
    let sb = sandbox(|b| {
        b.pids_max(16).memory_max(256 << 20);
    });
    let mut first = sb.spawn(Command::new("/bin/sleep").arg("100")).unwrap();
    let dirs: Vec<_> = first.cgroup_dirs().iter().map(|d| d.to_path_buf()).collect();
    for _ in 0..10 {
        assert!(first.exec(&Command::new("/bin/true")).unwrap().wait().unwrap().success());
    }
    let _left_running = first.exec(Command::new("/bin/sleep").arg("100")).unwrap();
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(!dirs.is_empty() && dirs.iter().all(|d| !d.exists()), "cgroup left: {dirs:?}");
}

const HELPER_ENV: &str = "ISOBOX_EXEC_HELPER";

/// Not a test: a caller that starts a sandbox and an exec'd process, prints their pids and
/// waits to be killed.
#[test]
#[ignore = "helper process for rootless_killing_the_caller_kills_its_exec_d_processes"]
fn helper_caller_with_an_exec() {
    if std::env::var(HELPER_ENV).is_err() {
        return;
    }
    let sb = sandbox(|_| {});
    let mut sleep = Command::new("/bin/sleep");
    sleep.arg("1000").stdout(Stdio::null());
    let first = sb.spawn(&sleep).unwrap();
    let second = first.exec(&sleep).unwrap();
    println!("PIDS={} {}", first.id(), second.id());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

#[test]
fn rootless_killing_the_caller_kills_its_exec_d_processes() {
    if !require_userns() {
        return;
    }
    nix::sys::prctl::set_child_subreaper(true).unwrap(); // the orphans come to us, to be reaped
    let exe = std::env::current_exe().unwrap();
    let mut helper = std::process::Command::new(exe);
    helper.args(["helper_caller_with_an_exec", "--exact", "--ignored", "--nocapture"]);
    helper.env(HELPER_ENV, "1").stdout(std::process::Stdio::piped());
    let mut helper = common::KillOnDrop(helper.spawn().unwrap());
    let stdout = BufReader::new(helper.stdout.take().unwrap());
    let line = stdout.lines().map_while(Result::ok).find(|l| l.contains("PIDS=")).expect("the helper's pids");
    let pids: Vec<u32> = line.split_once("PIDS=").unwrap().1.split(' ').map(|p| p.trim().parse().unwrap()).collect();
    assert!(pids.iter().all(|p| !common::is_gone(*p)), "both run with their caller");
    helper.kill().unwrap();
    helper.wait().unwrap();
    // Reaped as they come (the first, pid 1 of its namespace, ends only once the exec'd one
    // is reaped): each must be gone.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut left = pids.clone();
    while !left.is_empty() {
        let states: Vec<_> = left.iter().map(|p| std::fs::read_to_string(format!("/proc/{p}/stat"))).collect();
        assert!(Instant::now() < deadline, "left after the caller died: {left:?} {states:?}");
        let flags = Some(nix::sys::wait::WaitPidFlag::WNOHANG);
        left.retain(|p| {
            let status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(*p as i32), flags);
            matches!(status, Ok(nix::sys::wait::WaitStatus::StillAlive))
        });
        std::thread::sleep(Duration::from_millis(20));
    }
    for pid in pids {
        assert!(std::fs::metadata(format!("/proc/{pid}")).is_err(), "{pid} left");
    }
}
