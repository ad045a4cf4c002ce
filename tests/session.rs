//! The program starts in a session of its own: a terminal on its stdin that is the caller's
//! controlling terminal cannot be used to push input (TIOCSTI) or be opened as /dev/tty.
//!
//! The caller needs a controlling terminal for this to mean anything, so each test re-runs
//! this binary's `terminal_helper` under `setsid --ctty` with a fresh pty as stdin: the pty
//! becomes the helper's controlling terminal, and the helper spawns the sandbox with it.
mod common;

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use common::{full, require, require_root, require_userns};
use isobox::{Capabilities, Command, Sandbox, Stdio};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

const MODE: &str = "ISOBOX_TEST_TERMINAL_MODE";
const SETSID: &str = "/usr/bin/setsid";

/// Inside: TIOCSTI of "x" on stdin, then /dev/tty opened and written to.
const PROBE: &str = r#"
import errno, fcntl, os, termios
def attempt(f):
    try:
        f()
        return "OK"
    except OSError as e:
        return errno.errorcode[e.errno]
def tty():
    fd = os.open("/dev/tty", os.O_WRONLY)
    os.write(fd, b"via-dev-tty")
    os.close(fd)
print("tiocsti", attempt(lambda: fcntl.ioctl(0, termios.TIOCSTI, b"x")))
print("devtty", attempt(tty))
"#;

/// Spawned by the tests, never on its own: runs the probe in the sandbox `MODE` names.
#[test]
#[ignore = "helper process for the terminal tests"]
fn terminal_helper() {
    let Ok(mode) = std::env::var(MODE) else { return };
    let mut b = Sandbox::builder();
    match mode.as_str() {
        // Every mode drops the seccomp filter, which refuses TIOCSTI by itself (tests/seccomp.rs):
        // they show what the session (and the capabilities) alone decide.
        "default" => b.namespaces(full()).seccomp(isobox::Seccomp::none()),
        "no-session" => b.namespaces(full()).new_session(false).seccomp(isobox::Seccomp::none()),
        "root-sys-admin" => b
            .user_mapping(isobox::UserMapping::Current)
            .capabilities(Capabilities::SYS_ADMIN)
            .seccomp(isobox::Seccomp::none()),
        "root-default" => b.seccomp(isobox::Seccomp::none()),
        other => panic!("unknown mode {other}"),
    };
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.args(["-c", PROBE]).stdin(Stdio::inherit());
    let out = b.build().unwrap().output(&cmd).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for line in text.lines() {
        println!("PROBE {line}");
    }
    assert!(out.report.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// What the probe printed, and what reached the terminal's master side meanwhile.
fn through_a_terminal(mode: &str) -> (String, String) {
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave_copy: OwnedFd = pty.slave.try_clone().unwrap();
    // --wait: should setsid have to fork (it does when it leads a process group), it waits.
    let out = std::process::Command::new(SETSID)
        .args(["--ctty", "--wait"])
        .arg(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "terminal_helper", "--nocapture", "--test-threads=1"])
        .env(MODE, mode)
        .stdin(std::process::Stdio::from(pty.slave))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "helper: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    // libtest's "test terminal_helper ... " may precede the first line.
    let probe: String =
        stdout.lines().filter_map(|l| Some(&l[l.find("PROBE ")? + 6..])).map(|l| format!("{l}\n")).collect();
    // A marker written after the helper exited: whatever precedes it came from the sandbox.
    std::fs::File::from(slave_copy).write_all(b"END\n").unwrap();
    (probe, read_until_end(pty.master))
}

fn read_until_end(master: OwnedFd) -> String {
    let mut seen = Vec::new();
    // poll first, so a read never blocks.
    while !String::from_utf8_lossy(&seen).contains("END") {
        let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLIN)];
        assert_eq!(poll(&mut fds, PollTimeout::from(5000u16)).unwrap(), 1, "no marker: {seen:?}");
        let mut buf = [0u8; 256];
        let n = nix::unistd::read(master.as_raw_fd(), &mut buf).unwrap();
        seen.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&seen).into_owned();
    text[..text.find("END").unwrap()].to_string()
}

fn legacy_tiocsti() -> bool {
    std::fs::read_to_string("/proc/sys/dev/tty/legacy_tiocsti").map_or(true, |v| v.trim() == "1")
}

fn require_setsid() -> bool {
    require(std::path::Path::new(SETSID).exists(), "setsid(1) (util-linux) is not installed")
}

#[test]
fn rootless_a_new_session_keeps_the_program_off_the_callers_terminal() {
    if !require_userns() || !require_setsid() {
        return;
    }
    let (probe, terminal) = through_a_terminal("default");
    // Not its controlling terminal: EPERM (EIO where legacy_tiocsti is 0, for everyone).
    let refused = if legacy_tiocsti() { "EPERM" } else { "EIO" };
    assert_eq!(probe, format!("tiocsti {refused}\ndevtty ENXIO\n"));
    assert_eq!(terminal, "", "the sandbox reached the terminal");
}

#[test]
fn rootless_without_a_new_session_the_program_can_use_the_callers_terminal() {
    if !require_userns() || !require_setsid() {
        return;
    }
    let (probe, terminal) = through_a_terminal("no-session");
    if legacy_tiocsti() {
        // The injected byte is echoed like a keystroke: the caller's shell would read it.
        assert_eq!(probe, "tiocsti OK\ndevtty OK\n");
        assert_eq!(terminal, "xvia-dev-tty");
    } else {
        assert_eq!(probe, "tiocsti EIO\ndevtty OK\n");
        assert_eq!(terminal, "via-dev-tty");
    }
}

#[test]
fn without_a_user_namespace_the_new_session_holds_only_with_capabilities_dropped() {
    if !require_root() || !require_setsid() {
        return;
    }
    let (probe, terminal) = through_a_terminal("root-default");
    let refused = if legacy_tiocsti() { "EPERM" } else { "EIO" };
    assert_eq!(probe, format!("tiocsti {refused}\ndevtty ENXIO\n"));
    assert_eq!(terminal, "");
    // CAP_SYS_ADMIN on the host passes both TIOCSTI checks, session or not.
    let (probe, terminal) = through_a_terminal("root-sys-admin");
    assert_eq!(probe, "tiocsti OK\ndevtty ENXIO\n");
    assert_eq!(terminal, "x");
}
