//! Errors say what failed: the step, the object, the errno, and a hint.
mod common;

use common::{require_userns, sandbox};
use std::path::PathBuf;

use isobox::{
    Command, ConfigError, Error, Mount, MountAction, MountPart, Namespaces, Resource, Sandbox, SetupObject, SpawnError,
    Step,
};

#[test]
fn invalid_configurations_fail_at_build_with_typed_errors() {
    let err = Sandbox::builder().namespaces(Namespaces::USER).hostname("x").build().unwrap_err();
    assert!(matches!(err, Error::Config(ConfigError::NeedsNamespace { namespace: Namespaces::UTS, .. })), "{err}");
    let err = Sandbox::builder().namespaces(Namespaces::USER).mount(Mount::tmpfs("/t")).build().unwrap_err();
    assert!(matches!(err, Error::Config(ConfigError::NeedsNamespace { namespace: Namespaces::MOUNT, .. })), "{err}");
    let err = Sandbox::builder().namespaces(common::full()).rootfs("relative/dir").build().unwrap_err();
    assert!(matches!(err, Error::Config(ConfigError::RelativePath { what: "rootfs", .. })), "{err}");
    let err = Sandbox::builder().namespaces(common::full()).rootfs("/no/such/rootfs").build().unwrap_err();
    assert!(err.to_string().contains("/no/such/rootfs"), "{err}");
    let err =
        Sandbox::builder().namespaces(common::full() | Namespaces::UTS).hostname("h".repeat(65)).build().unwrap_err();
    assert!(matches!(err, Error::Config(ConfigError::NameTooLong { len: 65, .. })), "{err}");
    let err = Sandbox::builder().namespaces(common::full()).mount(Mount::bind("/a\0b", "/x")).build().unwrap_err();
    assert!(matches!(err, Error::Config(ConfigError::NulByte { .. })), "{err}");
}

#[test]
fn rootless_a_missing_program_is_an_error_from_spawn_not_exit_127() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|_| {});
    for program in ["isobox-no-such-program", "/usr/bin/isobox-no-such-program"] {
        let err = sb.spawn(&Command::new(program)).unwrap_err();
        match &err {
            Error::ProgramNotFound { program: p, searched } => {
                assert_eq!(p, program);
                let wanted = PathBuf::from("/usr/bin/isobox-no-such-program");
                assert!(searched.contains(&wanted), "{searched:?}");
                assert!(err.to_string().contains("/usr/bin/isobox-no-such-program"), "{err}");
            }
            other => panic!("expected ProgramNotFound, got {other}"),
        }
    }
}

#[test]
fn rootless_a_failing_mount_names_the_mount_its_index_and_the_errno() {
    if !require_userns() {
        return;
    }
    // /usr is bound read-only by the default root, so a mount point below it cannot be made.
    let sb = sandbox(|b| {
        b.mount(Mount::tmpfs("/scratch")).mount(Mount::tmpfs("/usr/isobox-no-such-dir"));
    });
    let err = sb.spawn(&Command::new("/bin/true")).unwrap_err();
    let Error::Setup(setup) = &err else { panic!("expected a setup error, got {err}") };
    assert_eq!(setup.step, Step::Mount);
    assert_eq!(setup.errno, nix::errno::Errno::EROFS);
    let object = setup.object.as_ref().unwrap();
    assert!(object.to_string().starts_with("#1 (tmpfs /usr/isobox-no-such-dir)"), "{object}");
    let SetupObject::Mount { part: MountPart::UserMount { index, mount }, action } = object else {
        panic!("expected a user mount, got {object:?}")
    };
    assert_eq!((*index, mount), (1, &Mount::tmpfs("/usr/isobox-no-such-dir")));
    assert_eq!(action, &MountAction::Mkdir { path: "/usr/isobox-no-such-dir".into() });
    let text = err.to_string();
    assert!(
        text.contains("mount #1 (tmpfs /usr/isobox-no-such-dir), at mkdir /usr/isobox-no-such-dir: EROFS"),
        "{text}"
    );
}

#[test]
fn rootless_a_failing_rlimit_names_the_limit_and_hints_at_the_capability() {
    if !require_userns() {
        return;
    }
    // Raising a hard limit needs CAP_SYS_RESOURCE in the initial user namespace, which a
    // sandbox's user namespace never has.
    let hard = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap().1;
    let sb = sandbox(|b| {
        b.rlimit(Resource::Core, 0, 0).rlimit(Resource::NoFile, hard + 1, hard + 1);
    });
    let err = sb.spawn(&Command::new("/bin/true")).unwrap_err();
    let Error::Setup(setup) = &err else { panic!("expected a setup error, got {err}") };
    assert_eq!((setup.step, setup.errno), (Step::Rlimit, nix::errno::Errno::EPERM));
    let object = setup.object.as_ref().unwrap();
    assert!(object.to_string().starts_with("#1 RLIMIT_NOFILE"), "{err}");
    assert!(
        matches!(object, SetupObject::Rlimit { index: 1, rlimit } if rlimit.resource == Resource::NoFile),
        "{object:?}"
    );
    assert!(setup.hint.unwrap().contains("CAP_SYS_RESOURCE"));
}

#[test]
fn rootless_a_missing_working_directory_is_named() {
    if !require_userns() {
        return;
    }
    let mut cmd = Command::new("/bin/true");
    cmd.current_dir("/isobox-no-such-dir");
    let err = sandbox(|_| {}).spawn(&cmd).unwrap_err();
    let Error::Setup(setup) = &err else { panic!("expected a setup error, got {err}") };
    assert_eq!((setup.step, setup.errno), (Step::Chdir, nix::errno::Errno::ENOENT));
    assert_eq!(setup.object, Some(SetupObject::Path("/isobox-no-such-dir".into())));
    assert!(err.to_string().contains("changing directory /isobox-no-such-dir: ENOENT"), "{err}");
}

#[test]
fn rootless_a_descriptor_number_at_the_top_of_the_range_is_an_error_not_a_crash() {
    if !require_userns() {
        return;
    }
    // Every number in play, and the spare one above it, must be below the open-files limit:
    // i32::MAX is refused before the clone (not overflowed in the parent, nor EINVAL later).
    let mut cmd = Command::new("/bin/true");
    cmd.pass_fd(i32::MAX, std::fs::File::open("/dev/null").unwrap().into());
    let err = sandbox(|_| {}).spawn(&cmd).unwrap_err();
    assert!(matches!(err, Error::Config(isobox::ConfigError::FdTargetTooHigh { fd: i32::MAX, .. })), "{err}");
    assert!(children_of_this_thread().is_empty());
}

#[test]
fn rootless_namespaces_without_a_user_namespace_need_root_and_say_so() {
    let sb = Sandbox::builder().namespaces(Namespaces::PID | Namespaces::UTS).build().unwrap();
    let result = sb.status(&Command::new("/bin/true"));
    if common::is_root() {
        // Root may create them: the same request succeeds.
        assert!(result.unwrap().success());
        return;
    }
    let err = result.unwrap_err();
    let Error::Spawn(SpawnError::Clone { errno, hint, .. }) = &err else { panic!("expected a clone error, got {err}") };
    assert_eq!(*errno, nix::errno::Errno::EPERM);
    assert!(hint.unwrap().contains("Namespaces::USER"), "{err}");
}

#[test]
fn rootless_a_failed_spawn_leaves_no_process_behind() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|b| {
        b.mount(Mount::tmpfs("/usr/isobox-no-such-dir"));
    });
    let before = children_of_this_thread();
    assert!(before.is_empty(), "{before:?}");
    for _ in 0..5 {
        assert!(sb.spawn(&Command::new("/bin/true")).is_err());
    }
    assert_eq!(children_of_this_thread(), before);
}

#[test]
fn rootless_a_map_the_kernel_refuses_is_an_error_and_the_waiting_child_exits() {
    if !require_userns() {
        return;
    }
    // Without privileges the kernel refuses a map of ids that are not the caller's. The child
    // is waiting for the go byte when the parent gives up; it must see EOF and exit, as it
    // would if the parent died at that moment. (Root may write any map build() accepts: this
    // runs in the rootless stage.)
    if common::is_root() {
        eprintln!("as root every map that build() accepts is written; the rootless stage runs this");
        return;
    }
    let foreign = vec![isobox::IdRange::new(0, nix::unistd::geteuid().as_raw() + 1, 1)];
    let mapping = isobox::UserMapping::Ranges { uids: foreign.clone(), gids: foreign };
    let sb = sandbox(|b| {
        b.user_mapping(mapping);
    });
    let err = sb.spawn(&Command::new("/bin/true")).unwrap_err();
    let Error::Spawn(SpawnError::IdMap { file, .. }) = &err else { panic!("expected an id map error, got {err}") };
    assert!(file.ends_with("uid_map") || file.ends_with("setgroups"), "{err}");
    assert!(children_of_this_thread().is_empty());
}

#[test]
fn bad_inputs_that_would_pass_the_kernel_or_fail_late_get_typed_errors() {
    let build = |tweak: &dyn Fn(&mut isobox::SandboxBuilder)| {
        let mut b = Sandbox::builder();
        b.namespaces(common::full());
        tweak(&mut b);
        b.build()
    };
    let overlap = vec![isobox::IdRange::new(0, 100_000, 2), isobox::IdRange::new(1, 200_000, 1)];
    let err = build(&|b| {
        b.user_mapping(isobox::UserMapping::Ranges { uids: overlap.clone(), gids: overlap.clone() });
    })
    .unwrap_err();
    assert!(err.to_string().contains("overlap"), "{err}");
    let host_overlap = vec![isobox::IdRange::new(0, 100_000, 2), isobox::IdRange::new(5, 100_001, 1)];
    let err = build(&|b| {
        b.user_mapping(isobox::UserMapping::Ranges { uids: host_overlap.clone(), gids: host_overlap.clone() });
    })
    .unwrap_err();
    assert!(err.to_string().contains("overlap"), "{err}");
    let err = build(&|b| {
        b.namespaces(common::full() | isobox::Namespaces::UTS).hostname("");
    })
    .unwrap_err();
    assert!(matches!(err, Error::Config(isobox::ConfigError::EmptyName { what: "hostname" })), "{err}");
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let err = build(&|b| {
        b.cpu_max(cpus * 4.0 + 1.0);
    })
    .unwrap_err();
    assert!(err.to_string().contains("online CPUs"), "{err}");

    let sb = build(&|_| {}).unwrap();
    for key in ["", "A=B"] {
        let mut cmd = Command::new("/bin/true");
        cmd.env(key, "x");
        let err = sb.spawn(&cmd).unwrap_err();
        assert!(matches!(&err, Error::Config(isobox::ConfigError::EnvKey { .. })), "{key:?}: {err}");
    }
    let mut cmd = Command::new("/bin/true");
    cmd.pass_fd(1, std::fs::File::open("/dev/null").unwrap().into());
    let err = sb.spawn(&cmd).unwrap_err();
    assert!(matches!(err, Error::Config(isobox::ConfigError::StdioFdTarget { fd: 1 })), "{err}");
    assert!(err.to_string().contains("Command::stdin"), "{err}");
    let mut cmd = Command::new("/bin/true");
    cmd.pass_fd(1 << 30, std::fs::File::open("/dev/null").unwrap().into());
    let err = sb.spawn(&cmd).unwrap_err();
    assert!(matches!(err, Error::Config(isobox::ConfigError::FdTargetTooHigh { .. })), "{err}");
}

/// The children of this thread, zombies included. Other tests run on other threads, and a
/// thread's clones are listed under its own task.
fn children_of_this_thread() -> Vec<String> {
    let tid = nix::unistd::gettid();
    let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/children")).unwrap();
    text.split_whitespace().map(str::to_string).collect()
}
