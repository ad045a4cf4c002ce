//! A root caller's sandbox is not host root: the attempt is made from inside, the host is
//! checked afterwards.

mod common;

use common::{full, require_root, sandbox, sh, sh_output};
use isobox::{Mount, Namespaces, Sandbox, UserMapping, NOBODY};

#[test]
fn a_root_callers_sandbox_root_is_nobody_on_the_host() {
    if !require_root() {
        return;
    }
    let sb = sandbox(|_| {});
    let out = sh(&sb, "cat /proc/self/uid_map /proc/self/gid_map; id -u");
    let fields: Vec<Vec<&str>> = out.lines().map(|l| l.split_whitespace().collect()).collect();
    let nobody = NOBODY.to_string();
    assert_eq!(fields[0], ["0", nobody.as_str(), "1"]);
    assert_eq!(fields[1], ["0", nobody.as_str(), "1"]);
    assert_eq!(fields[2], ["0"], "still root inside");
    let shadow = sh_output(&sb, "cat /etc/shadow");
    assert!(!shadow.report.success(), "the sandbox read /etc/shadow");
    assert!(shadow.stdout.is_empty());
}

#[test]
fn without_a_user_namespace_a_root_callers_program_runs_as_nobody() {
    if !require_root() {
        return;
    }
    let sb = Sandbox::builder().namespaces(Namespaces::PID | Namespaces::MOUNT).build().unwrap();
    assert_eq!(sh(&sb, "id -u; id -g; id -G").lines().collect::<Vec<_>>(), ["65534", "65534", "65534"]);
    assert!(!sh_output(&sb, "cat /etc/shadow").report.success(), "read /etc/shadow");
    let host = tempfile::tempdir().unwrap();
    std::fs::set_permissions(host.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let cmd = format!("touch {}/x", host.path().display());
    assert!(!sh_output(&sb, &cmd).report.success(), "wrote into a root-owned directory");
    assert_eq!(std::fs::read_dir(host.path()).unwrap().count(), 0);
}

#[test]
fn a_root_owned_host_directory_bound_writable_stays_unwritable() {
    if !require_root() {
        return;
    }
    let host = tempfile::tempdir().unwrap();
    std::fs::set_permissions(host.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(host.path().join("file"), "host\n").unwrap();
    let sb = sandbox(|b| {
        b.mount(Mount::bind(host.path(), "/data"));
    });
    let out = sh_output(&sb, "echo sandbox > /data/file; touch /data/new; cat /data/file");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "host\n");
    assert_eq!(std::fs::read_to_string(host.path().join("file")).unwrap(), "host\n");
    assert!(!host.path().join("new").exists(), "the sandbox created a file as host root");
}

#[test]
fn host_root_inside_is_an_explicit_opt_in() {
    if !require_root() {
        return;
    }
    let sb = sandbox(|b| {
        b.user_mapping(UserMapping::Current);
    });
    assert_eq!(sh(&sb, "cat /proc/self/uid_map").split_whitespace().collect::<Vec<_>>(), ["0", "0", "1"]);
    let plain = Sandbox::builder().namespaces(Namespaces::PID).user_mapping(UserMapping::Current).build().unwrap();
    assert_eq!(sh(&plain, "id -u").trim(), "0");
}

#[test]
fn a_single_mapping_to_nobody_works_with_the_default_root() {
    if !require_root() {
        return;
    }
    let mapping = UserMapping::Single { inside_uid: 0, outside_uid: NOBODY, inside_gid: 0, outside_gid: NOBODY };
    let sb = Sandbox::builder().namespaces(full()).user_mapping(mapping).build().unwrap();
    assert_eq!(sh(&sb, "touch /tmp/x && stat -c %u /tmp/x").trim(), "0");
}

/// Run alone by `rootless_the_callers_dumpable_flag_survives_spawns_that_switch_ids`, in a
/// process of its own: other tests' spawns in flight would keep the flag of their own start.
#[test]
#[ignore = "run by rootless_the_callers_dumpable_flag_survives_spawns_that_switch_ids"]
fn dumpable_inner() {
    // The child shares the caller's memory until exec, and the flag lives there: an id switch
    // in the child (a root caller's sandbox becomes nobody) must not leave it changed.
    let sb = sandbox(|_| {});
    for wanted in [false, true, false] {
        nix::sys::prctl::set_dumpable(wanted).unwrap();
        for _ in 0..3 {
            assert!(sb.status(&isobox::Command::new("/bin/true")).unwrap().success());
        }
        assert_eq!(nix::sys::prctl::get_dumpable().unwrap(), wanted, "the caller's dumpable flag changed");
    }
    println!("dumpable-done");
}

#[test]
fn rootless_the_callers_dumpable_flag_survives_spawns_that_switch_ids() {
    if !common::require_userns() {
        return;
    }
    common::run_alone("dumpable_inner", "dumpable-done");
}
