//! isobox's init as pid 1 (the default with a pid namespace): signals reach the program,
//! orphans are reaped, the report is the program's own, and the init is out of the
//! program's reach. Each attempt is also made with `init(false)` where the difference shows.
mod common;

use std::time::Duration;

use common::{require_root, require_userns, sandbox, sh};
use isobox::{Command, Sandbox, Signal};

fn sandbox_with_init(on: bool) -> Sandbox {
    sandbox(|b| {
        b.init(on);
    })
}

#[test]
fn rootless_a_term_sent_to_the_sandbox_kills_a_program_without_a_handler() {
    if !require_userns() {
        return;
    }
    let mut child = sandbox_with_init(true).spawn(Command::new("sleep").arg("30")).unwrap();
    child.signal(Signal::TERM).unwrap();
    let report = child.wait_timeout(Duration::from_secs(10)).unwrap().expect("sleep ended");
    assert_eq!(report.signal(), Some(libc::SIGTERM), "{report}");
    assert!(report.wall_time < Duration::from_secs(10), "{report}");

    // As pid 1 itself, the program ignores a signal it has no handler for.
    let mut child = sandbox_with_init(false).spawn(Command::new("sleep").arg("30")).unwrap();
    child.signal(Signal::TERM).unwrap();
    assert_eq!(child.wait_timeout(Duration::from_millis(300)).unwrap(), None, "pid 1 ignores TERM");
    child.kill().unwrap();
}

#[test]
fn rootless_every_forwardable_signal_reaches_the_program() {
    if !require_userns() {
        return;
    }
    // The program traps each and says which it got; then exits by the last.
    let script = "for s in INT HUP QUIT USR1 USR2 WINCH; do trap \"echo $s\" $s; done; \
        trap 'echo TERM; exit 3' TERM; echo ready; while :; do sleep 0.05; done";
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", script]).stdout(isobox::Stdio::piped());
    let mut child = sandbox_with_init(true).spawn(&cmd).unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    assert_eq!(line, "ready\n");
    let signals = [Signal::INT, Signal::HUP, Signal::QUIT, Signal::USR1, Signal::USR2, Signal::WINCH, Signal::TERM];
    let mut said = Vec::new();
    for signal in signals {
        child.signal(signal).unwrap();
        line.clear();
        std::io::BufRead::read_line(&mut out, &mut line).unwrap();
        said.push(line.trim().to_string());
    }
    assert_eq!(said, ["INT", "HUP", "QUIT", "USR1", "USR2", "WINCH", "TERM"]);
    let report = child.wait().unwrap();
    assert_eq!(report.code(), Some(3), "{report}");
}

#[test]
fn rootless_the_report_is_the_programs_own_status() {
    if !require_userns() {
        return;
    }
    for on in [true, false] {
        let sb = sandbox_with_init(on);
        let report = sb.status(Command::new("/bin/sh").args(["-c", "exit 7"])).unwrap();
        assert_eq!(report.code(), Some(7), "init {on}: {report}");
        let report = sb.status(Command::new("/bin/sh").args(["-c", "kill -SEGV $$"])).unwrap();
        if on {
            assert_eq!(report.signal(), Some(libc::SIGSEGV), "{report}");
        } else {
            // pid 1 cannot kill itself with a signal it does not handle: sh goes on and exits 0.
            assert_eq!(report.code(), Some(0), "{report}");
        }
    }
}

#[test]
fn rootless_orphans_are_reparented_to_the_init_and_reaped() {
    if !require_userns() {
        return;
    }
    // The orphan's parent dies at once; it is reparented to pid 1, exits after 0.2 s, and must
    // then be gone, not a zombie.
    let script = "o=$(sh -c 'sleep 0.2 >/dev/null & echo $!'); \
        ppid=$(cut -d' ' -f4 /proc/$o/stat); echo \"ppid $ppid\"; sleep 0.6; \
        if [ -e /proc/$o ]; then echo \"still there: $(cut -d' ' -f3 /proc/$o/stat)\"; else echo reaped; fi";
    assert_eq!(sh(&sandbox_with_init(true), script), "ppid 1\nreaped\n");
}

#[test]
fn rootless_the_program_cannot_reach_into_the_init() {
    if !require_userns() {
        return;
    }
    let script = format!(
        "{}t comm cat /proc/1/comm; t environ cat /proc/1/environ; t maps cat /proc/1/maps; \
         t fds sh -c 'for f in /proc/1/fd/*; do readlink $f || exit 1; done'; t mem dd if=/proc/1/mem bs=1 count=1 skip=4194304; \
         t kill kill -KILL 1; t alive kill -0 1",
        common::TRY
    );
    let out = sh(&sandbox_with_init(true), &script);
    // kill -KILL 1 "succeeds" (the kernel drops it: pid 1 has no handler for it from inside).
    let expected = "comm ok\nenviron failed\nmaps failed\nfds failed\nmem failed\nkill ok\nalive ok\n";
    assert_eq!(out, expected);
    // The init runs without capabilities, as the program does, and under a filter of its own.
    let status = sh(&sandbox_with_init(true), "grep -E '^Cap(Prm|Eff|Bnd)' /proc/1/status | cut -f2 | sort -u");
    assert_eq!(status, "0000000000000000\n");
    // From the program's first instruction on: it goes on only once the init is filtered
    // (and not dumpable), so no try may catch the init before that.
    let sandbox = sandbox_with_init(true);
    for attempt in 0..20 {
        let filtered = sh(&sandbox, "grep -E '^(Seccomp|NoNewPrivs):' /proc/1/status | tr -s '\t' ' '");
        assert_eq!(filtered, "NoNewPrivs: 1\nSeccomp: 2\n", "attempt {attempt}");
    }
}

#[test]
fn a_pids_limit_counts_the_programs_processes_not_the_init() {
    if !require_root() {
        return;
    }
    // pids_max(1): the program itself and nothing more, as without an init.
    let sb = sandbox(|b| {
        b.pids_max(1);
    });
    let out = common::sh_output(&sb, "echo started; (true) && echo forked");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "started\n", "{}", out.report);
    assert!(String::from_utf8_lossy(&out.stderr).contains("fork"), "{}", String::from_utf8_lossy(&out.stderr));
    let sb = sandbox(|b| {
        b.pids_max(2);
    });
    assert_eq!(sh(&sb, "(true) && echo forked"), "forked\n");
}

#[test]
fn rootless_process_limits_leave_the_program_its_own_count() {
    if !require_userns() {
        return;
    }
    // RLIMIT_NPROC 1: the program itself, no fork, as without an init.
    let sb = sandbox(|b| {
        b.rlimit(isobox::Resource::NProc, 1, 1);
    });
    let out = common::sh_output(&sb, "echo started; (true) && echo forked");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "started\n", "{}", out.report);
    // Builtins only: the shell may not fork.
    let script = "while read -r l; do case $l in 'Max processes'*) echo $l;; esac; done < /proc/self/limits";
    let out = common::sh_output(&sb, script);
    let said = String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(said, "Max processes 2 2 processes", "written as 1 + 1, the init's");
}
