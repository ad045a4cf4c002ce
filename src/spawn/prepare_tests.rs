use std::os::fd::OwnedFd;

use super::*;
use crate::namespaces::Namespaces;
use crate::sandbox::Sandbox;
use crate::user::spec::UserMapping;

fn names(c: &[CString]) -> Vec<&str> {
    c.iter().map(|c| c.to_str().unwrap()).collect()
}

#[test]
fn candidates_follow_path_and_skip_relative_entries() {
    let got = candidates(OsStr::new("sh"), Some(OsStr::new("/bin:rel:/usr/bin::")));
    assert_eq!(names(&got), ["/bin/sh", "/usr/bin/sh"]);
    assert_eq!(names(&candidates(OsStr::new("./x"), None)), ["./x"]);
    assert_eq!(candidates(OsStr::new("sh"), None).len(), DEFAULT_PATH.split(':').count());
}

fn config(ns: Namespaces, mapping: UserMapping) -> SandboxPlan {
    let mut b = Sandbox::builder();
    b.namespaces(ns).user_mapping(mapping);
    crate::build::build(&b.spec).unwrap()
}

#[test]
fn argv_and_envp_are_prepared_and_nul_is_reported() {
    let cfg = config(Namespaces::empty(), UserMapping::Current);
    let mut cmd = Command::new("echo");
    cmd.arg("hi").env("A", "1");
    let p = prepare(&cmd, &cfg, StdioDefaults::SPAWN).unwrap();
    assert_eq!(p.exec.argv.iter().map(|c| c.to_str().unwrap()).collect::<Vec<_>>(), ["echo", "hi"]);
    assert!(p.exec.envp.iter().any(|c| c.to_bytes() == b"A=1"));
    assert_eq!(p.exec.cwd, None);
    cmd.arg("bad\0arg");
    let err = prepare(&cmd, &cfg, StdioDefaults::SPAWN).unwrap_err();
    assert!(err.to_string().contains("argument 2"), "{err}");
}

#[test]
fn unmapped_ids_are_rejected_and_default_to_root_in_a_user_namespace() {
    let cfg = config(Namespaces::USER, UserMapping::Current);
    let p = prepare(&Command::new("x"), &cfg, StdioDefaults::SPAWN).unwrap();
    assert_eq!((p.exec.ids.uid, p.exec.ids.gid), (Some(0), Some(0)));
    let mut cmd = Command::new("x");
    cmd.uid(1000);
    let err = prepare(&cmd, &cfg, StdioDefaults::SPAWN).unwrap_err();
    assert!(matches!(err, Error::Config(ConfigError::UnmappedId { kind: "uid", id: 1000 })), "{err}");
}

#[test]
fn output_defaults_pipe_stdout_and_stderr_and_null_stdin() {
    let cfg = config(Namespaces::empty(), UserMapping::Current);
    let p = prepare(&Command::new("x"), &cfg, StdioDefaults::OUTPUT).unwrap();
    assert_eq!(p.exec.fd_moves.iter().map(|(_, dst)| *dst).collect::<Vec<_>>(), [0, 1, 2]);
    assert!(p.parent_ends[0].is_none() && p.parent_ends[1].is_some() && p.parent_ends[2].is_some());
    let p = prepare(&Command::new("x"), &cfg, StdioDefaults::SPAWN).unwrap();
    assert!(p.exec.fd_moves.is_empty());
}

#[test]
fn passed_fds_must_be_3_or_above_and_unique() {
    let cfg = config(Namespaces::empty(), UserMapping::Current);
    let fd = |cmd: &mut Command, n| {
        let f: OwnedFd = std::fs::File::open("/dev/null").unwrap().into();
        cmd.pass_fd(n, f);
    };
    let mut cmd = Command::new("x");
    fd(&mut cmd, 5);
    assert_eq!(prepare(&cmd, &cfg, StdioDefaults::SPAWN).unwrap().exec.fd_moves.len(), 1);
    fd(&mut cmd, 5);
    assert!(prepare(&cmd, &cfg, StdioDefaults::SPAWN).is_err());
    let mut cmd = Command::new("x");
    fd(&mut cmd, 1);
    assert!(prepare(&cmd, &cfg, StdioDefaults::SPAWN).is_err());
}

#[test]
fn a_command_too_large_for_the_memory_limit_is_refused_before_the_clone() {
    let mut b = Sandbox::builder();
    b.memory_max(9 << 20);
    let plan = crate::build::build(&b.spec).unwrap();
    let small = Command::new("true");
    assert!(prepare(&small, &plan, StdioDefaults::SPAWN).is_ok());
    let mut big = Command::new("true");
    big.env("BIG", "x".repeat(2 << 20));
    let err = prepare(&big, &plan, StdioDefaults::SPAWN).unwrap_err();
    assert!(matches!(err, Error::Config(ConfigError::CommandTooLargeForMemoryLimit { .. })), "{err}");
}

#[test]
fn a_descriptor_that_grows_the_childs_table_past_the_memory_limit_is_refused() {
    assert_eq!(fd_table_growth(&[(0, 0), (1, 1), (2, 2)]).1, 0, "a small table fits in the floor");
    // A move to 16378 goes through scratch numbers above it: 16384 slots.
    assert_eq!(fd_table_growth(&[(5, 16378)]), (16383, 16 << 14));
    // A memory limit exactly at the floor: no room for the table's growth. The child's own
    // open-files limit, raised above the caller's before the descriptors move, lets
    // descriptor 2000 in whatever the caller's is (nothing is spawned here).
    let caller_hard = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap().1;
    let hard = caller_hard.saturating_add(1).max(4096);
    let mut b = Sandbox::builder();
    b.rlimit(crate::rlimit::spec::Resource::NoFile, hard, hard).memory_max(64 << 20);
    let floor = crate::build::build(&b.spec).unwrap().cgroup.unwrap().memory_floor;
    b.memory_max(floor);
    let plan = crate::build::build(&b.spec).unwrap();
    let file = OwnedFd::from(std::fs::File::open("/dev/null").unwrap());
    let mut low = Command::new("true");
    low.pass_fd(100, file.try_clone().unwrap());
    assert!(prepare(&low, &plan, StdioDefaults::SPAWN).is_ok());
    let mut high = Command::new("true");
    high.pass_fd(2000, file);
    let err = prepare(&high, &plan, StdioDefaults::SPAWN).unwrap_err();
    match err {
        Error::Config(ConfigError::DescriptorTooHighForMemoryLimit { fd, limit, needed }) => {
            assert_eq!((fd, limit, needed), (2005, floor, floor + (16 << 11)));
        }
        other => panic!("{other:?}"),
    }
}
