//! Helpers of the tests of a `wait` whose command's exit another process's tracer holds: the
//! kernel reports the exit to the tracer first, so the pidfd is readable long before the
//! caller may reap. The tracer is a Python process attached with `PTRACE_SEIZE` (root: it
//! traces a process in the sandbox's user namespace).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child as StdChild, Stdio as StdStdio};
use std::time::Duration;

use isobox::{Command, Stdio};
use nix::sys::resource::{getrusage, UsageWho};

/// How long the tracer holds the exit (at least) after the command is told to end.
pub const HELD: Duration = Duration::from_millis(1500);

/// A command that ends when a line comes on its stdin.
pub fn until_a_line() -> Command {
    let mut command = Command::new("/bin/sh");
    command.args(["-c", "read line"]).stdin(Stdio::piped());
    command
}

/// Attaches a tracer to `pid` that exits (detaching) [`HELD`] and a second later; returns
/// once it is attached.
pub fn trace(pid: u32) -> StdChild {
    let script = "import ctypes, sys, time\n\
        libc = ctypes.CDLL(None, use_errno=True)\n\
        if libc.ptrace(0x4206, int(sys.argv[1]), None, None) != 0:\n\
        \x20   print('errno', ctypes.get_errno(), flush=True); sys.exit(1)\n\
        print('attached', flush=True)\n\
        time.sleep(float(sys.argv[2]))\n";
    // A second more than HELD: the test's clock starts only once it has read "attached".
    let hold = (HELD + Duration::from_secs(1)).as_secs_f64().to_string();
    let mut tracer = std::process::Command::new("/usr/bin/python3")
        .args(["-c", script, &pid.to_string(), &hold])
        .stdout(StdStdio::piped())
        .spawn()
        .expect("python3 (the tracer)");
    let mut line = String::new();
    BufReader::new(tracer.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "attached", "the tracer could not attach to {pid}");
    tracer
}

/// The calling thread's CPU time so far.
pub fn thread_cpu() -> Duration {
    let usage = getrusage(UsageWho::RUSAGE_THREAD).unwrap();
    let micros = |t: nix::sys::time::TimeVal| t.tv_sec() as u64 * 1_000_000 + t.tv_usec() as u64;
    Duration::from_micros(micros(usage.user_time()) + micros(usage.system_time()))
}

/// Checks a wait that took `took` and `spent` CPU time: it waited for the tracer, and did
/// not spin (spinning keeps the thread on the CPU most of the time, 80–100% here; sleeping
/// between looks, a few ms).
pub fn assert_waited_without_spinning(took: Duration, spent: Duration) {
    assert!(took >= HELD, "the wait returned after {took:?}, before the tracer let go: nothing was held");
    assert!(spent < took / 4, "the wait spun: {spent:?} of CPU in {took:?}");
}
