use super::*;
use crate::{Mount, Resource, Sandbox};

fn builder(ns: Namespaces) -> SandboxBuilder {
    let mut b = Sandbox::builder();
    b.namespaces(ns);
    b
}

fn err(b: &SandboxBuilder) -> ConfigError {
    build(b).unwrap_err()
}

#[test]
fn hostname_needs_uts_and_at_most_64_bytes() {
    let mut b = builder(Namespaces::USER);
    b.hostname("box");
    assert!(matches!(err(&b), ConfigError::NeedsNamespace { namespace: "UTS", .. }));
    b.namespaces(Namespaces::USER | Namespaces::UTS).hostname("x".repeat(65));
    assert!(matches!(err(&b), ConfigError::NameTooLong { len: 65, .. }));
    b.hostname("a\0b");
    assert!(matches!(err(&b), ConfigError::NulByte { .. }));
    b.hostname("x".repeat(64));
    assert!(build(&b).is_ok());
}

#[test]
fn mounts_and_rootfs_need_a_mount_namespace() {
    let mut b = builder(Namespaces::USER);
    b.mount(Mount::tmpfs("/tmp"));
    assert!(matches!(err(&b), ConfigError::NeedsNamespace { namespace: "MOUNT", .. }));
    let mut b = builder(Namespaces::USER);
    b.rootfs("/");
    assert!(matches!(err(&b), ConfigError::NeedsNamespace { namespace: "MOUNT", .. }));
    let mut b = builder(Namespaces::USER);
    b.readonly_root(true);
    assert!(matches!(err(&b), ConfigError::NeedsNamespace { namespace: "MOUNT", .. }));
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
    assert!(matches!(err(&b), ConfigError::Rlimit { resource: "RLIMIT_NOFILE", soft: 10, hard: 5 }));
}

#[test]
fn time_offsets_need_a_time_namespace_and_are_normalised() {
    let mut b = builder(Namespaces::USER);
    b.time_offsets(TimeOffsets { monotonic_ns: 1, boottime_ns: 0 });
    assert!(matches!(err(&b), ConfigError::NeedsNamespace { namespace: "TIME", .. }));
    let text = offsets_text(TimeOffsets { monotonic_ns: -1_500_000_000, boottime_ns: 86_400_000_000_000 });
    assert_eq!(text.to_str().unwrap(), "monotonic -2 500000000\nboottime 86400 0\n");
}

#[test]
fn a_user_mapping_needs_a_user_namespace() {
    let mut b = builder(Namespaces::PID);
    b.user_mapping(UserMapping::Subordinate);
    assert!(matches!(err(&b), ConfigError::NeedsNamespace { namespace: "USER", .. }));
}

#[test]
fn without_a_mount_namespace_there_is_no_plan() {
    let config = build(&builder(Namespaces::USER | Namespaces::PID)).unwrap();
    assert!(config.plan.ops.is_empty());
    let config = build(&builder(Namespaces::USER | Namespaces::MOUNT)).unwrap();
    assert!(!config.plan.ops.is_empty());
}

#[test]
fn features_newer_than_the_kernel_are_refused() {
    assert!(check_kernel("x", (6, 2), Some((6, 18))).is_ok());
    let err = check_kernel("a time namespace", (6, 2), Some((6, 1))).unwrap_err();
    assert_eq!(err.to_string(), "a time namespace needs Linux 6.2 or later; this kernel is 6.1");
    assert!(check_kernel("x", (6, 2), None).is_err());
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
    assert!(matches!(err(&b), ConfigError::Limit { what: "tmpfs size", .. }));
    let mut b = builder(Namespaces::USER | Namespaces::MOUNT);
    b.mount(Mount::tmpfs("/tmp").size(4096));
    assert!(b.build().is_ok());
}
