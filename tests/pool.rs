//! Prewarmed pools: a pooled sandbox runs the command as a fresh spawn would (stdio, env,
//! working directory, hardening, limits), tenants share nothing, the pool refills, and
//! nothing is left behind by a dropped pool or a dead parent.
mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::{require_root, require_userns, sandbox};
use isobox::{Command, Error, IdRange, PoolError, Sandbox, Seccomp, Stdio, UserMapping};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn sh(script: &str) -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", script]);
    cmd
}

#[test]
fn rootless_a_pooled_spawn_runs_the_command_with_its_stdio_environment_and_directory() {
    if !require_userns() {
        return;
    }
    let pool = sandbox(|_| {}).pool(2).unwrap();
    let mut cmd = sh("read line; echo \"got $line from $GREETING in $(pwd)\"; echo oops >&2; exit 3");
    cmd.env("GREETING", "the caller").current_dir("/tmp");
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = pool.spawn(&cmd).unwrap();
    child.stdin.take().unwrap().write_all(b"a line\n").unwrap();
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let report = child.wait().unwrap();
    assert_eq!(out, "got a line from the caller in /tmp\n");
    assert_eq!(err, "oops\n");
    assert_eq!(report.code(), Some(3), "{report}");
    assert!(report.wall_time < Duration::from_secs(5), "{report}");
}

#[test]
fn rootless_a_pooled_sandbox_is_hardened_like_a_spawned_one() {
    if !require_userns() {
        return;
    }
    let script = "grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status | tr -s '\\t' ' '; \
        echo pid $$; cat /proc/1/comm; ls /proc/self/fd | wc -l; unshare -U true 2>/dev/null && echo unshared";
    let spawned = sandbox(|_| {}).output(&sh(script)).unwrap();
    let pooled = sandbox(|_| {}).pool(1).unwrap().output(&sh(script)).unwrap();
    // The pooled command is pid 2 too: it runs beside the init, which holds the sandbox.
    let (pooled, spawned) = (text(&pooled.stdout), text(&spawned.stdout));
    assert_eq!(pooled, spawned);
    assert!(pooled.contains("CapEff: 0000000000000000\n") && pooled.contains("Seccomp: 2\n"), "{pooled}");
    assert!(pooled.contains("pid 2\nisobox-init\n") && !pooled.contains("unshared"), "{pooled}");
}

#[test]
fn rootless_each_pooled_sandbox_runs_one_command_and_tenants_share_nothing() {
    if !require_userns() {
        return;
    }
    let pool = sandbox(|_| {}).pool(2).unwrap();
    let first = pool.output(&sh("echo secret > /tmp/left; hostname tenant1 2>/dev/null; echo $$")).unwrap();
    assert!(first.report.success(), "{}", first.report);
    for _ in 0..3 {
        let next = pool.output(&sh("cat /tmp/left 2>/dev/null || echo nothing left")).unwrap();
        assert_eq!(text(&next.stdout), "nothing left\n");
    }
}

#[test]
fn rootless_the_pool_refills_in_the_background() {
    if !require_userns() {
        return;
    }
    let pool = sandbox(|_| {}).pool(3).unwrap();
    assert_eq!((pool.idle(), pool.size()), (3, 3));
    for _ in 0..3 {
        assert!(pool.status(&Command::new("/bin/true")).unwrap().success());
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while pool.idle() < 3 {
        assert!(Instant::now() < deadline, "refilled only to {}", pool.idle());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn rootless_a_pool_is_topped_up_while_a_long_command_runs() {
    if !require_userns() {
        return;
    }
    let pool = sandbox(|_| {}).pool(1).unwrap();
    let mut long = pool.spawn(Command::new("/bin/sleep").arg("30")).unwrap();
    // Not at the command's end (it runs on), but shortly after the spawn.
    let deadline = Instant::now() + Duration::from_secs(20);
    while pool.idle() < 1 {
        assert!(Instant::now() < deadline, "not refilled while the command ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(long.try_wait().unwrap(), None, "the long command still runs");
    long.kill().unwrap();
    assert_eq!(long.wait().unwrap().signal(), Some(9));
}

#[test]
fn rootless_a_missing_program_and_a_bad_directory_are_the_usual_errors() {
    if !require_userns() {
        return;
    }
    let pool = sandbox(|_| {}).pool(1).unwrap();
    let err = pool.spawn(&Command::new("/no/such/program")).unwrap_err();
    assert!(matches!(err, Error::ProgramNotFound { .. }), "{err}");
    let mut cmd = Command::new("/bin/true");
    cmd.current_dir("/no/such/dir");
    let err = pool.spawn(&cmd).unwrap_err();
    assert!(matches!(&err, Error::Setup(e) if e.step == isobox::Step::Chdir), "{err}");
    assert!(pool.status(&Command::new("/bin/true")).unwrap().success(), "the pool goes on");
}

#[test]
fn rootless_what_a_pool_cannot_do_is_refused_with_a_reason() {
    if !require_userns() {
        return;
    }
    let err = sandbox(|_| {}).pool(0).unwrap_err();
    assert!(matches!(err, Error::Pool(PoolError::Size { size: 0, .. })), "{err}");
    let denies_chdir = Seccomp::default_profile().deny(libc::SYS_chdir, nix::errno::Errno::EPERM);
    let err = sandbox(|b| {
        b.seccomp(denies_chdir);
    })
    .pool(1)
    .unwrap_err();
    assert!(matches!(err, Error::Pool(PoolError::FilterRefuses { nr }) if nr == libc::SYS_chdir), "{err}");
    let pool = sandbox(|_| {}).pool(1).unwrap();
    let mut many = Command::new("/bin/true");
    let files: Vec<std::fs::File> = (0..65).map(|_| std::fs::File::open("/dev/null").unwrap()).collect();
    for (i, f) in files.iter().enumerate() {
        many.pass_fd(10 + i as i32, f.try_clone().unwrap().into());
    }
    let err = pool.spawn(&many).unwrap_err();
    // 65 passed, and the caller's three stdio descriptors, which travel with the command.
    let too_many = PoolError::TooBig { what: isobox::PoolLimit::Descriptors, got: 68, max: 64 };
    assert!(matches!(&err, Error::Pool(e) if e.to_string() == too_many.to_string()), "{err}");
}

#[test]
fn a_pooled_command_asking_for_other_ids_is_refused() {
    if !require_root() {
        return;
    }
    let ranges = vec![IdRange::new(0, 100_000, 1), IdRange::new(1000, 101_000, 1)];
    let sb = sandbox(|b| {
        b.user_mapping(UserMapping::Ranges { uids: ranges.clone(), gids: ranges });
    });
    let pool = sb.pool(1).unwrap();
    let mut as_1000 = Command::new("/bin/true");
    as_1000.uid(1000).gid(1000);
    let err = pool.spawn(&as_1000).unwrap_err();
    assert!(matches!(err, Error::Pool(PoolError::Ids { uid: Some(1000), .. })), "{err}");
    assert!(sb.status(&as_1000).unwrap().success(), "a plain spawn may");
}

#[test]
fn a_pooled_sandbox_has_its_limits_and_its_cgroup_goes_with_it() {
    if !require_root() {
        return;
    }
    let pool = sandbox(|b| {
        b.pids_max(5).memory_max(64 << 20);
    })
    .pool(1)
    .unwrap();
    let mut child = pool.spawn(&sh("cat /sys/fs/cgroup/pids.max 2>/dev/null; sleep 0.2")).unwrap();
    let dirs: Vec<std::path::PathBuf> = child.cgroup_dirs().into_iter().map(|d| d.to_path_buf()).collect();
    assert!(!dirs.is_empty());
    let pids_max = dirs.iter().map(|d| d.join("pids.max")).find(|f| f.exists()).expect("a pids.max");
    assert_eq!(std::fs::read_to_string(pids_max).unwrap().trim(), "6", "5 and the init");
    assert!(child.wait().unwrap().success());
    assert!(dirs.iter().all(|d| !d.exists()), "{dirs:?} left behind");
    drop(pool);
}

/// Not a test: run alone by the next one, so that no other test's sandboxes are about.
#[test]
#[ignore = "run by rootless_a_dropped_pool_leaves_no_process_descriptor_or_mount"]
fn dropped_pool_alone() {
    let me = std::process::id();
    let children = || -> Vec<String> {
        let list = std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok());
        list.filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
            .filter(|stat| stat.rsplit(')').next().and_then(|r| r.split_whitespace().nth(1)) == Some(&me.to_string()))
            .collect()
    };
    let sb = Sandbox::builder().namespaces(common::full()).build().unwrap();
    // One spawn first: isobox keeps one descriptor for the whole process, its program's memfd.
    assert!(sb.status(&Command::new("/bin/true")).unwrap().success());
    let settled = |deadline: Instant| {
        while !children().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10)); // isobox's reaper thread at work
        }
    };
    settled(Instant::now() + Duration::from_secs(5));
    let fds = std::fs::read_dir("/proc/self/fd").unwrap().count();
    let mounts = std::fs::read("/proc/self/mountinfo").unwrap();
    let pool = sb.pool(4).unwrap();
    // Two of ours per sandbox: its init, and the waiter for the command beside it.
    assert_eq!(children().len(), 8, "{:?}", children());
    for _ in 0..6 {
        let out = pool.output(&sh("echo out; echo err >&2")).unwrap();
        assert_eq!((text(&out.stdout), text(&out.stderr)), ("out\n".into(), "err\n".into()));
    }
    assert!(pool.spawn(&Command::new("/no/such/program")).is_err());
    drop(pool);
    // The sandboxes handed out were reaped by isobox's reaper thread: give it a moment (long
    // in the emulated VM, whose kernel may still be freeing an earlier test's namespaces).
    settled(Instant::now() + Duration::from_secs(20));
    assert_eq!(children(), Vec::<String>::new(), "the pool's sandboxes outlived it");
    let listed: Vec<_> =
        std::fs::read_dir("/proc/self/fd").unwrap().flatten().map(|e| std::fs::read_link(e.path())).collect();
    assert_eq!(std::fs::read_dir("/proc/self/fd").unwrap().count(), fds, "descriptors left: {listed:?}");
    assert!(std::fs::read("/proc/self/mountinfo").unwrap() == mounts, "host mounts changed");
    println!("POOL-GONE");
}

#[test]
fn rootless_a_dropped_pool_leaves_no_process_descriptor_or_mount() {
    if !require_userns() {
        return;
    }
    common::run_alone("dropped_pool_alone", "POOL-GONE");
}

/// Not a test: run alone by the next one (it kills this process's waiting sandboxes).
#[test]
#[ignore = "run by rootless_a_waiting_sandbox_killed_from_outside_is_replaced"]
fn killed_waiters_alone() {
    let pool = Sandbox::builder().namespaces(common::full()).build().unwrap().pool(2).unwrap();
    let ppid = |pid: i32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat.rsplit(')').next()?.split_whitespace().nth(1)?.parse().ok()
    };
    // The holders: the sandboxes' inits, our children (other test processes' pools aside).
    let ours = |pid: i32| ppid(pid) == Some(std::process::id());
    let waiters = || -> Vec<i32> {
        let pids =
            std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok());
        pids.filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "isobox-init\n"))
            .filter(|pid| ours(*pid))
            .collect()
    };
    // An init names itself just after its exec, which the pool does not wait for.
    let deadline = Instant::now() + Duration::from_secs(10);
    while waiters().len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let waiters = waiters();
    assert_eq!(waiters.len(), 2, "{waiters:?}");
    for pid in &waiters {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid), nix::sys::signal::Signal::SIGKILL).unwrap();
    }
    // Once they have died (a kill that lands while a sandbox is being handed over kills the
    // command, as it would kill a spawned one).
    let dead = |pid: &i32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map_or(true, |s| s.rsplit(") ").next().is_some_and(|r| r.starts_with('Z')))
    };
    while !waiters.iter().all(dead) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = pool.output(&sh("echo still served")).unwrap();
    assert_eq!(text(&out.stdout), "still served\n");
    println!("REPLACED");
}

#[test]
fn rootless_a_waiting_sandbox_killed_from_outside_is_replaced() {
    if !require_userns() {
        return;
    }
    common::run_alone("killed_waiters_alone", "REPLACED");
}

#[test]
fn rootless_without_auto_refill_the_pool_only_shrinks_until_filled() {
    if !require_userns() {
        return;
    }
    let pool = sandbox(|_| {}).pool(2).unwrap();
    pool.set_auto_refill(false);
    for left in [1, 0] {
        assert!(pool.status(&Command::new("/bin/true")).unwrap().success());
        std::thread::sleep(Duration::from_millis(50)); // a refill would have had time to start
        assert_eq!(pool.idle(), left);
    }
    // Empty: the spawn makes its sandbox itself.
    assert!(pool.status(&Command::new("/bin/true")).unwrap().success());
    pool.fill().unwrap();
    assert_eq!(pool.idle(), 2);
}

#[test]
fn rootless_a_low_open_files_limit_and_a_small_data_limit_still_serve_pooled_commands() {
    if !require_userns() {
        return;
    }
    // The waiter takes the descriptors before it sets the limit, as a spawn's child does.
    let files: Vec<std::fs::File> = (0..40).map(|_| std::fs::File::open("/dev/null").unwrap()).collect();
    let pool = sandbox(|b| {
        b.rlimit(isobox::Resource::NoFile, 8, 8);
    })
    .pool(1)
    .unwrap();
    let out = pool.output(&sh("ulimit -n")).unwrap();
    assert_eq!(text(&out.stdout), "8\n", "{}", text(&out.stderr));
    drop(files);
    // isobox's init and waiter need no large data segment.
    let small_data = sandbox(|b| {
        b.rlimit(isobox::Resource::Data, 1 << 20, 1 << 20);
    });
    assert!(small_data.status(&Command::new("/bin/true")).unwrap().success());
    let out = small_data.pool(1).unwrap().output(&sh("echo served")).unwrap();
    assert_eq!(text(&out.stdout), "served\n", "{}", out.report);
}

#[test]
fn rootless_a_filter_with_a_notify_rule_on_a_waiter_call_is_refused_not_hung() {
    if !require_userns() {
        return;
    }
    let err = sandbox(|b| {
        b.seccomp(Seccomp::default_profile().notify(libc::SYS_prctl));
    })
    .pool(1)
    .unwrap_err();
    assert!(matches!(err, Error::Pool(PoolError::FilterRefuses { nr }) if nr == libc::SYS_prctl), "{err}");
}

#[test]
fn rootless_the_init_holding_a_pooled_sandbox_reaps_orphans_and_sleeps() {
    if !require_userns() {
        return;
    }
    let pool = sandbox(|_| {}).pool(1).unwrap();
    // An orphan (the subshell's sleep) goes to pid 1, the holder, and exits there; then the
    // command counts the zombies in its sandbox and reads pid 1's CPU time (clock ticks).
    let script = "( sleep 0.2 & ); sleep 1.5; \
        echo zombies $(cat /proc/[0-9]*/stat | awk '$3 == \"Z\"' | wc -l) ticks $(awk '{print $14 + $15}' /proc/1/stat)";
    let out = pool.output(&sh(script)).unwrap();
    let said = text(&out.stdout);
    let words: Vec<&str> = said.split_whitespace().collect();
    assert!(matches!(words[..], ["zombies", "0", "ticks", _]), "{said} {}", text(&out.stderr));
    // A holder that spun would have used most of the 1.7 s (170 ticks at 100 Hz).
    let ticks: u32 = words[3].parse().unwrap();
    assert!(ticks < 25, "the holder used {ticks} ticks of CPU while it waited");
}

#[test]
fn rootless_the_holders_calls_are_checked_against_the_filter_only_where_the_filter_holds_it() {
    if !require_userns() {
        return;
    }
    // Without an init the holder is a waiter, under the sandbox's filter: it must allow its
    // ppoll. With one, the init holds the sandbox under a filter of its own.
    let no_ppoll = || Seccomp::default_profile().deny(libc::SYS_ppoll, nix::errno::Errno::EPERM);
    let err = sandbox(|b| {
        b.init(false).seccomp(no_ppoll());
    })
    .pool(1)
    .unwrap_err();
    assert!(matches!(err, Error::Pool(PoolError::FilterRefuses { nr }) if nr == libc::SYS_ppoll), "{err}");
    let pool = sandbox(|b| {
        b.seccomp(no_ppoll());
    })
    .pool(1)
    .unwrap();
    let out = pool.output(&sh("echo held")).unwrap();
    assert_eq!(text(&out.stdout), "held\n", "{}", out.report);
}

/// The live processes in pid namespace `ns` (zombies aside).
fn live_in_pid_namespace(ns: &std::path::Path) -> Vec<String> {
    let pids = std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok());
    let stats = pids.filter(|p| std::fs::read_link(format!("/proc/{p}/ns/pid")).is_ok_and(|l| l == ns));
    let stats = stats.filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).ok());
    stats.filter(|s| !s.rsplit(") ").next().unwrap_or("").starts_with('Z')).collect()
}

fn until_empty(ns: &std::path::Path) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !live_in_pid_namespace(ns).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10)); // isobox's reaper thread at work
    }
    live_in_pid_namespace(ns)
}

#[test]
fn rootless_a_pooled_command_is_the_callers_child_and_what_it_left_running_ends_with_it() {
    if !require_userns() {
        return;
    }
    let pool = sandbox(|_| {}).pool(2).unwrap();
    // An orphan left running by a command that has exited.
    let mut cmd = sh("sleep 1000 >/dev/null & echo $$ $PPID");
    cmd.stdout(Stdio::piped());
    let mut child = pool.spawn(&cmd).unwrap();
    let pid = child.id();
    let ns = std::fs::read_link(format!("/proc/{pid}/ns/pid")).unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let parent = stat.rsplit(") ").next().unwrap().split_whitespace().nth(1).unwrap().parse::<u32>().unwrap();
    assert_eq!(parent, std::process::id(), "the pooled command's parent: {stat}");
    let mut said = String::new();
    child.stdout.take().unwrap().read_to_string(&mut said).unwrap();
    assert_eq!(said, "2 0\n", "pid 2 beside the init, its parent outside");
    assert!(child.wait().unwrap().success());
    assert_eq!(until_empty(&ns), Vec::<String>::new(), "left running after the command's wait");
    // Killing a pooled command ends the sandbox, with what the command started.
    let mut cmd = sh("sleep 1000 & sleep 1000");
    let mut child = pool.spawn(cmd.stdout(Stdio::null())).unwrap();
    let ns = std::fs::read_link(format!("/proc/{}/ns/pid", child.id())).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while live_in_pid_namespace(&ns).len() < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10)); // init, sh and its two sleeps
    }
    assert_eq!(live_in_pid_namespace(&ns).len(), 4, "{:?}", live_in_pid_namespace(&ns));
    child.kill().unwrap();
    let report = child.wait().unwrap();
    assert_eq!(report.signal(), Some(9), "{report}");
    assert_eq!(until_empty(&ns), Vec::<String>::new(), "left running after kill");
}

/// Whether `pid` is a zombie child of this process.
fn our_zombie(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let mut after = stat.rsplit(") ").next().unwrap_or("").split_whitespace();
    after.next() == Some("Z") && after.next() == Some(&std::process::id().to_string())
}

#[test]
fn rootless_a_pooled_commands_wait_reports_its_end_and_its_zombie_is_reaped_after() {
    if !require_userns() {
        return;
    }
    let pool = sandbox(|_| {}).pool(1).unwrap();
    for (script, code, signal) in
        [("i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; exit 7", Some(7), None), ("kill -SEGV $$", None, Some(11))]
    {
        let mut child = pool.spawn(&sh(script)).unwrap();
        let pid = child.id();
        let report = child.wait().unwrap();
        assert_eq!((report.code(), report.signal()), (code, signal), "{report}");
        // Read before the reap (WNOWAIT), the resource use is the command's own.
        if code.is_some() {
            assert!(report.usage.user_time + report.usage.system_time > Duration::ZERO, "{report:?}");
            assert!(report.usage.max_rss_bytes > 0, "{report:?}");
        }
        // Its `wait` left the zombie to isobox's pool thread, which reaps it moments later.
        let deadline = Instant::now() + Duration::from_secs(10);
        while our_zombie(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!our_zombie(pid), "the pooled command {pid} is still a zombie 10 s after its wait");
        assert_eq!(child.wait().unwrap(), report, "a second wait reads the same report");
    }
}

#[test]
fn rootless_what_a_pooled_command_left_running_ends_at_its_exit_before_any_wait() {
    if !require_userns() {
        return;
    }
    assert_what_it_left_ends_before_any_wait("sleep 1000 & echo started");
}

#[test]
fn rootless_a_pooled_command_that_stops_the_rest_of_its_sandbox_still_ends_what_it_left_at_its_exit() {
    if !require_userns() {
        return;
    }
    // Pid 1, the init, ends the sandbox at the command's exit: a stop sent from inside does
    // not reach it, so the orphan ends all the same.
    let script = "for p in /proc/[0-9]*; do p=${p#/proc/}; [ \"$p\" = $$ ] || kill -STOP \"$p\"; done; \
        sleep 1000 & echo started";
    assert_what_it_left_ends_before_any_wait(script);
}

/// Runs `script` (which leaves a process running and prints "started") in a pooled sandbox:
/// what it left must end at its exit, before `wait`.
fn assert_what_it_left_ends_before_any_wait(script: &str) {
    let pool = sandbox(|_| {}).pool(1).unwrap();
    // The orphan holds the command's stdout open: EOF comes once the orphan is gone.
    let mut cmd = sh(script);
    cmd.stdout(Stdio::piped());
    let mut child = pool.spawn(&cmd).unwrap();
    let ns = std::fs::read_link(format!("/proc/{}/ns/pid", child.id())).unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut said = String::new();
        let read = stdout.read_to_string(&mut said).map(|_| said);
        let _ = tx.send(read.map_err(|e| e.to_string()));
    });
    let said = rx.recv_timeout(Duration::from_secs(20)).expect("the orphan outlived the command, unwaited");
    assert_eq!(said.unwrap(), "started\n");
    // (The init, exiting, waits in the kernel until the command has been reaped.)
    assert!(child.wait().unwrap().success());
    assert_eq!(until_empty(&ns), Vec::<String>::new(), "left running after the command's wait");
}

#[test]
fn rootless_what_a_pooled_command_left_holding_its_pipes_does_not_hold_up_output() {
    if !require_userns() {
        return;
    }
    let pool = sandbox(|_| {}).pool(1).unwrap();
    let started = Instant::now();
    let out = pool.output(&sh("sleep 20 & echo hi; echo there >&2")).unwrap();
    assert_eq!((text(&out.stdout), text(&out.stderr)), ("hi\n".into(), "there\n".into()));
    assert!(out.report.success(), "{}", out.report);
    assert!(started.elapsed() < Duration::from_secs(10), "output waited {:?} for the orphan", started.elapsed());
}

#[test]
fn rootless_a_pooled_commands_orphan_cannot_trace_the_holder_and_output_does_not_hang() {
    if !require_userns() {
        return;
    }
    // Pid 1 holds the sandbox, with the command's ids: the init, or the waiter of a sandbox
    // without one. An orphan that could trace it (PTRACE_ATTACH) would keep it in a trace
    // stop past the command's exit, holding stdout open: it is not dumpable, so the attach
    // fails with EPERM, and the sandbox ends at the command's exit. The orphan's attach to a
    // child of its own shows that ptrace works there (the filter, and no Yama scope).
    let script = format!(
        "use POSIX; my $cmd = $$; pipe(R, W); if (!fork) {{ close R; \
         my $own = fork; if (!$own) {{ sleep 1000; exit }} \
         my $child = syscall({nr}, 16, $own, 0, 0) == 0 ? 'y' : 'n'; kill 'KILL', $own; \
         my $holder = syscall({nr}, 16, 1, 0, 0) == 0 ? 'attached' : ($! == EPERM ? 'EPERM' : \"$!\"); \
         print W \"own child $child, pid 1 $holder\"; close W; sleep 1000; exit }} \
         close W; print scalar(<R>), \"\\n\"",
        nr = libc::SYS_ptrace
    );
    for init in [true, false] {
        let pool = sandbox(|b| {
            b.init(init).seccomp(Seccomp::default_profile().allow(libc::SYS_ptrace));
        })
        .pool(1)
        .unwrap();
        let mut cmd = Command::new("/usr/bin/perl");
        cmd.args(["-e", &script]);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let out = pool.output(&cmd);
            let _ = tx.send(out.map(|o| (text(&o.stdout), o.report.success())).map_err(|e| e.to_string()));
        });
        let out = rx.recv_timeout(Duration::from_secs(20)).expect("output hung on a traced holder");
        assert_eq!(out.unwrap(), ("own child y, pid 1 EPERM\n".to_string(), true), "init {init}");
    }
}

#[test]
fn rootless_a_pooled_command_that_makes_the_caller_its_tracer_is_not_taken_for_ended_when_it_stops() {
    if !require_userns() {
        return;
    }
    let pool = sandbox(|b| {
        b.seccomp(Seccomp::default_profile().allow(libc::SYS_ptrace));
    })
    .pool(1)
    .unwrap();
    // PTRACE_TRACEME, then a stop, which the kernel reports to the tracer's wait4 untraced.
    let mut cmd = Command::new("/usr/bin/perl");
    cmd.args(["-e", &format!("syscall({}, 0, 0, 0, 0); kill 'STOP', $$; exit 3", libc::SYS_ptrace)]);
    let mut child = pool.spawn(&cmd).unwrap();
    assert_eq!(child.wait_timeout(Duration::from_millis(500)).unwrap(), None, "a stop is not an exit");
    child.kill().unwrap();
    let report = child.wait().unwrap();
    assert_eq!(report.signal(), Some(9), "{report}");
}

#[test]
fn rootless_commands_of_every_size_reach_a_pooled_sandbox_intact() {
    if !require_userns() {
        return;
    }
    let pool = sandbox(|_| {}).pool(1).unwrap();
    // The waiter takes a body into the region it mapped while it waited, the pointers after
    // it, or mappings of their own when they do not fit: each way, and each boundary.
    // (40 000, 2 000): the body fits the region, its 2 000 pointers and more do not.
    let cases: [(usize, usize); 6] =
        [(0, 0), (60_000, 10), (40_000, 2_000), (60_000, 2_000), (64 * 1024, 0), (120_000, 5_000)];
    for (value_len, extra_args) in cases {
        let value = "v".repeat(value_len);
        let mut cmd = sh("echo ${#BIG} $#");
        cmd.arg("sh").args((0..extra_args).map(|i| i.to_string())).env("BIG", &value).stdout(Stdio::piped());
        let out = pool.output(&cmd).unwrap();
        assert_eq!(text(&out.stdout), format!("{value_len} {extra_args}\n"), "{}", text(&out.stderr));
    }
}

/// isobox's waiter holds none of the caller's descriptors: stdio left unset must still be the
/// caller's, as in a spawn (it was closed before the fix).
#[test]
fn rootless_a_pooled_command_with_unset_stdio_has_the_callers() {
    if !require_userns() {
        return;
    }
    let pool = sandbox(|_| {}).pool(1).unwrap();
    let mut child = pool.spawn(&sh("sleep 5")).unwrap();
    for fd in 0..3 {
        let ours = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok();
        let theirs = std::fs::read_link(format!("/proc/{}/fd/{fd}", child.id())).ok();
        assert_eq!(theirs, ours, "descriptor {fd}");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
