//! Nothing leaks: mounts, descriptors.
mod common;

use std::os::fd::{AsRawFd, OwnedFd};

use common::{require_userns, sandbox, sh};
use isobox::{Command, Mount, Namespaces};

#[test]
fn rootless_host_mountinfo_is_unchanged_after_100_spawns() {
    if !require_userns() {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let sb = sandbox(|b| {
        b.namespaces(common::full() | Namespaces::NET)
            .mount(Mount::bind_ro("/usr", "/opt/usr"))
            .mount(Mount::bind(scratch.path(), "/scratch"))
            .mount(Mount::tmpfs("/work").size(1 << 20))
            .mount(Mount::dev("/dev2"))
            .readonly_root(true);
    });
    let before = std::fs::read("/proc/self/mountinfo").unwrap();
    for _ in 0..100 {
        let report = sb.status(&Command::new("/bin/true")).unwrap();
        assert!(report.success());
    }
    let after = std::fs::read("/proc/self/mountinfo").unwrap();
    assert!(before == after, "host mount table changed:\n{}", String::from_utf8_lossy(&after));
}

#[test]
fn rootless_only_stdio_and_passed_descriptors_are_open_inside() {
    if !require_userns() {
        return;
    }
    // A descriptor without CLOEXEC, as a careless library might leave one.
    let leaky = nix::fcntl::open("/dev/null", nix::fcntl::OFlag::O_RDONLY, nix::sys::stat::Mode::empty()).unwrap();
    let passed: OwnedFd = std::fs::File::open("/dev/null").unwrap().into();
    // ls itself opens the directory it lists, at the lowest free number: 3 if nothing leaked.
    let mut cmd = Command::new("ls");
    cmd.args(["-1", "/proc/self/fd/"]).pass_fd(7, passed);
    let out = sandbox(|_| {}).output(&cmd).unwrap();
    nix::unistd::close(leaky).unwrap();
    let fds: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(String::from).collect();
    assert_eq!(fds, ["0", "1", "2", "3", "7"], "leaked descriptor was {leaky}");
}

#[test]
fn rootless_passed_descriptors_can_swap_places() {
    if !require_userns() {
        return;
    }
    // Targets that collide with each other's sources must not clobber one another.
    let a = tempfile::NamedTempFile::new().unwrap();
    let b = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(a.path(), "A").unwrap();
    std::fs::write(b.path(), "B").unwrap();
    let fa: OwnedFd = std::fs::File::open(a.path()).unwrap().into();
    let fb: OwnedFd = std::fs::File::open(b.path()).unwrap().into();
    let (ra, rb) = (fa.as_raw_fd(), fb.as_raw_fd());
    // Read through the descriptors themselves (bash: dash reads only one-digit numbers):
    // reopening /proc/self/fd/N would check the file's mode against the sandbox's host
    // identity (nobody for a root caller).
    let mut cmd = Command::new("/bin/bash");
    cmd.args(["-c", &format!("cat <&{ra}; cat <&{rb}")]).pass_fd(rb, fa).pass_fd(ra, fb);
    let out = sandbox(|_| {}).output(&cmd).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "BA", "stderr: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn rootless_the_default_root_holds_only_what_is_documented() {
    if !require_userns() {
        return;
    }
    let script = "echo x > /dev/null && head -c 4 /dev/urandom | wc -c; exec 3<>/dev/ptmx; ls /dev/pts | tr '\\n' ' '";
    let devices = sh(&sandbox(|_| {}), script);
    assert_eq!(devices, "4\n0 ptmx ", "devices work and devpts is a private instance");
    let out = sh(&sandbox(|_| {}), "ls -A / | tr '\\n' ' '; ls -A /dev | tr '\\n' ' '");
    let expected_dev = "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero ";
    assert!(out.ends_with(expected_dev), "{out}");
    for entry in out.trim_end_matches(expected_dev).split_whitespace() {
        let allowed =
            isobox::DEFAULT_ROOT_DIRS.iter().any(|d| &d[1..] == entry) || ["proc", "dev", "tmp"].contains(&entry);
        assert!(allowed, "unexpected {entry} in the default root: {out}");
    }
}

#[test]
fn rootless_stdout_can_go_to_a_file_of_the_callers() {
    if !require_userns() {
        return;
    }
    let file = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = Command::new("echo");
    cmd.arg("into the file").stdout(file.reopen().unwrap());
    let report = sandbox(|_| {}).status(&cmd).unwrap();
    assert!(report.success());
    assert_eq!(std::fs::read_to_string(file.path()).unwrap(), "into the file\n");
}
