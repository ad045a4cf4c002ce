use std::path::Path;

use super::*;
use crate::builder::SandboxBuilder;
use crate::mount::spec::Mount;
use crate::rlimit::spec::Resource;
use crate::sandbox::Sandbox;
use crate::time::spec::TimeOffsets;
use crate::user::spec::UserMapping;

fn builder(ns: Namespaces) -> SandboxBuilder {
    let mut b = Sandbox::builder();
    b.namespaces(ns);
    b
}

fn err(b: &SandboxBuilder) -> ConfigError {
    build(&b.spec).unwrap_err()
}

#[test]
fn hostname_needs_uts_and_at_most_64_bytes() {
    let mut b = builder(Namespaces::USER);
    b.hostname("box");
    assert!(matches!(err(&b), ConfigError::NeedsNamespace { namespace: Namespaces::UTS, .. }));
    b.namespaces(Namespaces::USER | Namespaces::UTS).hostname("x".repeat(65));
    assert!(matches!(err(&b), ConfigError::NameTooLong { len: 65, .. }));
    b.hostname("a\0b");
    assert!(matches!(err(&b), ConfigError::NulByte { .. }));
    b.hostname("x".repeat(64));
    assert!(build(&b.spec).is_ok());
}

#[test]
fn mounts_and_rootfs_need_a_mount_namespace() {
    let mut b = builder(Namespaces::USER);
    b.mount(Mount::tmpfs("/tmp"));
    assert!(matches!(err(&b), ConfigError::NeedsNamespace { namespace: Namespaces::MOUNT, .. }));
    let mut b = builder(Namespaces::USER);
    b.rootfs("/");
    assert!(matches!(err(&b), ConfigError::NeedsNamespace { namespace: Namespaces::MOUNT, .. }));
    let mut b = builder(Namespaces::USER);
    b.readonly_root(true);
    assert!(matches!(err(&b), ConfigError::NeedsNamespace { namespace: Namespaces::MOUNT, .. }));
}

#[test]
fn paths_must_be_absolute_and_rootfs_an_existing_directory() {
    let ns = Namespaces::USER | Namespaces::MOUNT;
    let mut b = builder(ns);
    b.mount(Mount::tmpfs("tmp"));
    assert!(matches!(err(&b), ConfigError::RelativePath { what: "mount target", .. }));
    let mut b = builder(ns);
    b.mount(Mount::bind("data", "/data"));
    assert!(matches!(err(&b), ConfigError::RelativePath { what: "bind source", .. }));
    let mut b = builder(ns);
    b.rootfs("/definitely/not/here");
    assert!(matches!(err(&b), ConfigError::Path { what: "rootfs", .. }));
    let file = tempfile::NamedTempFile::new().unwrap();
    let mut b = builder(ns);
    b.rootfs(file.path());
    assert!(matches!(err(&b), ConfigError::NotADirectory { .. }));
}

#[test]
fn rlimit_soft_above_hard_is_rejected() {
    let mut b = builder(Namespaces::empty());
    b.rlimit(Resource::NoFile, 10, 5);
    assert!(matches!(err(&b), ConfigError::Rlimit { resource: Resource::NoFile, soft: 10, hard: 5 }));
}

#[test]
fn time_offsets_need_a_time_namespace() {
    let mut b = builder(Namespaces::USER);
    b.time_offsets(TimeOffsets::new(1, 0));
    assert!(matches!(err(&b), ConfigError::NeedsNamespace { namespace: Namespaces::TIME, .. }));
    // The normalised text: time::plan's test.
}

#[test]
fn a_user_mapping_needs_a_user_namespace() {
    let mut b = builder(Namespaces::PID);
    b.user_mapping(UserMapping::Subordinate);
    assert!(matches!(err(&b), ConfigError::NeedsNamespace { namespace: Namespaces::USER, .. }));
}

#[test]
fn without_a_mount_namespace_there_is_no_plan() {
    let plan = build(&builder(Namespaces::USER | Namespaces::PID).spec).unwrap();
    assert!(plan.child.mounts.ops.is_empty());
    let plan = build(&builder(Namespaces::USER | Namespaces::MOUNT).spec).unwrap();
    assert!(!plan.child.mounts.ops.is_empty());
}

#[test]
fn tmpfs_options_on_other_mounts_are_refused() {
    let mut b = builder(Namespaces::USER | Namespaces::MOUNT);
    b.mount(Mount::bind("/usr", "/usr").mode(0o700));
    assert!(matches!(err(&b), ConfigError::TmpfsOption { option: "mode", .. }));
}

#[test]
fn a_tmpfs_of_size_zero_is_refused_not_left_unlimited() {
    let mut b = builder(Namespaces::USER | Namespaces::MOUNT);
    b.mount(Mount::tmpfs("/tmp").size(0));
    let e = err(&b);
    assert!(matches!(&e, ConfigError::TmpfsSizeZero { mount } if mount.target() == Path::new("/tmp")), "{e}");
    assert!(e.to_string().contains("tmpfs /tmp: a size of 0"), "{e}");
    let mut b = builder(Namespaces::USER | Namespaces::MOUNT);
    b.mount(Mount::tmpfs("/tmp").size(4096));
    assert!(b.build().is_ok());
}

#[cfg(feature = "landlock")]
#[test]
fn the_memory_floor_counts_the_landlock_rules_the_child_adds() {
    let floor = |rules: usize| {
        let mut b = Sandbox::builder();
        let ruleset = (0..rules).fold(crate::landlock::spec::Landlock::new(), |r, _| r.read_only("/"));
        b.landlock(ruleset).memory_max(64 << 20);
        build(&b.spec).unwrap().cgroup.unwrap().memory_floor
    };
    assert_eq!(floor(1000) - floor(1), 999 << 10);
}

#[test]
fn a_cgroup_parent_must_be_absolute_without_nul_or_dot_dot() {
    let mut b = builder(Namespaces::USER);
    b.cgroup_parent("isobox-relative");
    assert!(matches!(err(&b), ConfigError::RelativePath { what: "cgroup parent", .. }));
    b.cgroup_parent("/isobox-\0");
    assert!(matches!(err(&b), ConfigError::NulByte { .. }));
    // Joined under /sys/fs/cgroup/<controller>: this would be /sys/tmp/escape.
    b.cgroup_parent("/isobox-test/../../../tmp/escape");
    assert!(matches!(err(&b), ConfigError::ParentDirInPath { what: "cgroup parent", .. }), "{}", err(&b));
    b.cgroup_parent("/isobox-test/./inner");
    assert!(build(&b.spec).is_ok());
}
