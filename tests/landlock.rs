//! Landlock confines the program (feature `landlock`): every attempt is made from inside the
//! sandbox, and each refusal is checked against the same attempt without Landlock.
#![cfg(feature = "landlock")]
mod common;

use std::path::{Path, PathBuf};

use common::{require_userns, sh, sh_output, KillOnDrop};
use isobox::{
    Command, ConfigError, Error, FsAccess, Landlock, LandlockError, Namespaces, Sandbox, SandboxBuilder, Scopes,
    SetupObject, Step, DEFAULT_ROOT_DIRS,
};
use nix::errno::Errno;

/// The kernel's Landlock ABI, asked directly rather than through isobox (python3's ctypes:
/// landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION), number 444 on x86_64
/// and aarch64); `None` without Landlock.
fn kernel_abi() -> Option<u32> {
    let script = "import ctypes; print(ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1))";
    let out = std::process::Command::new("python3").args(["-c", script]).output().expect("python3 runs");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    text.trim().parse::<i64>().ok().and_then(|abi| u32::try_from(abi).ok()).filter(|abi| *abi > 0)
}

/// The kernel's ABI if it has Landlock. Without it, checks that `build()` refuses the
/// ruleset with the typed error instead, and returns `None`.
fn abi_or_refused(b: &SandboxBuilder) -> Option<u32> {
    let abi = kernel_abi();
    if abi.is_none() {
        let err = b.build().unwrap_err();
        assert!(matches!(err, Error::Config(ConfigError::Landlock(LandlockError::Unsupported { .. }))), "{err}");
        eprintln!("this kernel has no Landlock; build() refused it as it should: {err}");
    }
    abi
}

/// The caller's own identity inside (`UserMapping::Current`; a root caller's default is
/// nobody), so that only Landlock stands between the sandbox and what each test tries.
fn with(namespaces: Namespaces, ruleset: Option<Landlock>) -> SandboxBuilder {
    let mut b = Sandbox::builder();
    b.namespaces(namespaces).user_mapping(isobox::UserMapping::Current);
    if let Some(ruleset) = ruleset {
        b.landlock(ruleset);
    }
    b
}

/// `name ok`, or `name <what the command printed, on one line>` when it failed.
const TRY: &str =
    r#"set -f; try() { name=$1; shift; if msg=$("$@" 2>&1); then echo "$name ok"; else echo "$name" $msg; fi; }"#;

/// Runs `attempts` (lines of `try name command…`) in `b`'s sandbox; one line per attempt.
fn attempts(b: &SandboxBuilder, attempts: &str) -> Vec<String> {
    let out = sh(&b.build().expect("valid sandbox"), &format!("{TRY}\n{attempts}"));
    out.lines().map(str::to_string).collect()
}

fn refused(line: &str, name: &str) -> bool {
    line.starts_with(&format!("{name} ")) && line.ends_with("Permission denied")
}

#[test]
fn rootless_writes_outside_the_read_write_tree_are_refused() {
    if !require_userns() {
        return;
    }
    let ruleset = Landlock::new().read_exec("/").read_write("/tmp");
    let b = with(common::full(), Some(ruleset));
    if abi_or_refused(&b).is_none() {
        return;
    }
    let script = "try create touch /tmp/x\n\
                  try truncate sh -c 'echo hi > /tmp/x'\n\
                  try rename sh -c 'mkdir /tmp/d && mv /tmp/x /tmp/d/x'\n\
                  try read cat /etc/hostname\n\
                  try shm touch /dev/shm/y\n\
                  try root mkdir /newdir";
    let confined = attempts(&b, script);
    assert_eq!(confined[..4], ["create ok", "truncate ok", "rename ok", "read ok"], "{confined:?}");
    assert!(refused(&confined[4], "shm"), "{confined:?}");
    assert!(refused(&confined[5], "root"), "{confined:?}");
    // Without Landlock the same sandbox may write both.
    let free = attempts(&with(common::full(), None), script);
    assert!(free.iter().all(|l| l.ends_with(" ok")), "{free:?}");
}

#[test]
fn rootless_reading_what_no_rule_allows_is_refused() {
    if !require_userns() {
        return;
    }
    // The system directories but /etc (and those that are links, which rules do not
    // follow): the shell runs, /etc stays unreadable.
    let is_link = |dir: &str| std::fs::symlink_metadata(dir).map(|m| m.file_type().is_symlink()).unwrap_or(false);
    let ruleset = DEFAULT_ROOT_DIRS
        .iter()
        .filter(|dir| **dir != "/etc" && Path::new(dir).exists() && !is_link(dir))
        .fold(Landlock::new(), |ruleset, dir| ruleset.read_exec(dir));
    let b = with(common::full(), Some(ruleset));
    if abi_or_refused(&b).is_none() {
        return;
    }
    let script = "try usr ls /usr\ntry passwd cat /etc/passwd\ntry list ls /etc\ntry tmp touch /tmp/x";
    let confined = attempts(&b, script);
    assert_eq!(confined[0], "usr ok", "{confined:?}");
    for (line, name) in confined[1..].iter().zip(["passwd", "list", "tmp"]) {
        assert!(refused(line, name), "{confined:?}");
    }
    let free = attempts(&with(common::full(), None), script);
    assert!(free.iter().all(|l| l.ends_with(" ok")), "{free:?}");
}

#[test]
fn rootless_tcp_connect_to_a_port_not_allowed_is_refused() {
    if !require_userns() {
        return;
    }
    let ns = common::full() | Namespaces::NET;
    let b = with(ns, Some(Landlock::new().read_exec("/").allow_tcp_connect(1111)));
    let Some(abi) = abi_or_refused(&b) else { return };
    if abi < 4 {
        let err = b.build().unwrap_err();
        assert!(matches!(err, Error::Config(ConfigError::Landlock(LandlockError::FeatureNeedsAbi { needs: 4, .. }))));
        return;
    }
    // Nothing listens in the sandbox's own network namespace: an allowed connect is refused by
    // the peer, one Landlock stops never leaves.
    let script = "try allowed bash -c 'exec 3<>/dev/tcp/127.0.0.1/1111'\n\
                  try other bash -c 'exec 3<>/dev/tcp/127.0.0.1/2222'";
    let confined = attempts(&b, script);
    assert!(confined[0].starts_with("allowed") && confined[0].ends_with("Connection refused"), "{confined:?}");
    assert!(refused(&confined[1], "other"), "{confined:?}");
    let free = attempts(&with(ns, None), script);
    assert!(free.iter().all(|l| l.ends_with("Connection refused")), "{free:?}");
}

#[test]
fn rootless_the_signal_scope_keeps_signals_inside() {
    if !require_userns() {
        return;
    }
    // No pid namespace: the host's process is visible, and only Landlock stands in the way.
    let ns = Namespaces::USER | Namespaces::MOUNT;
    let b = with(ns, Some(Landlock::new().read_exec("/").scope(Scopes::SIGNAL)));
    let Some(abi) = abi_or_refused(&b) else { return };
    if abi < 6 {
        let err = b.build().unwrap_err();
        assert!(matches!(err, Error::Config(ConfigError::Landlock(LandlockError::FeatureNeedsAbi { needs: 6, .. }))));
        return;
    }
    let host = KillOnDrop(std::process::Command::new("sleep").arg("30").spawn().unwrap());
    let script = format!("try signal kill -0 {}\ntry own kill -0 $$", host.id());
    let confined = attempts(&b, &script);
    assert!(confined[0].starts_with("signal ") && confined[0].contains("not permitted"), "{confined:?}");
    assert_eq!(confined[1], "own ok", "{confined:?}");
    assert_eq!(attempts(&with(ns, None), &script), ["signal ok", "own ok"]);
}

#[test]
fn rootless_without_namespaces_host_paths_are_confined() {
    let (allowed, other) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ruleset = Landlock::new().read_exec("/").read_write(allowed.path());
    let b = with(Namespaces::empty(), Some(ruleset));
    if abi_or_refused(&b).is_none() {
        return;
    }
    let (a, o) = (allowed.path().join("a"), other.path().join("o"));
    let script = format!("try allowed touch {}\ntry other touch {}", a.display(), o.display());
    let confined = attempts(&b, &script);
    assert_eq!(confined[0], "allowed ok", "{confined:?}");
    assert!(refused(&confined[1], "other"), "{confined:?}");
    assert!(a.exists() && !o.exists(), "on the host: {} and not {}", a.display(), o.display());
    // The child restricted itself only: the parent, whose memory it shared, still may write.
    std::fs::write(other.path().join("parent"), "x").expect("the parent is not confined");
}

#[test]
fn rootless_the_sandbox_reports_the_kernels_abi() {
    let b = with(Namespaces::empty(), Some(Landlock::new().read_exec("/")));
    let Some(abi) = abi_or_refused(&b) else { return };
    let sb = b.build().unwrap();
    assert_eq!(sb.landlock_abi(), Some(abi.min(Landlock::NEWEST_ABI)));
    assert_eq!(with(Namespaces::empty(), None).build().unwrap().landlock_abi(), None);
    // Each spawn makes its own ruleset from the same plan.
    for _ in 0..3 {
        assert_eq!(sh(&sb, "echo ok"), "ok\n");
    }
}

#[test]
fn rootless_an_abi_the_kernel_lacks_fails_build() {
    let b = with(Namespaces::empty(), Some(Landlock::new().read_exec("/").require_abi(99)));
    let Some(kernel) = abi_or_refused(&b) else { return };
    let err = b.build().unwrap_err();
    assert!(
        matches!(&err, Error::Config(ConfigError::Landlock(LandlockError::RequiredAbi { required: 99, kernel: k })) if *k == kernel),
        "{err}"
    );
    assert!(err.to_string().contains(&format!("this kernel has Landlock ABI {kernel}")), "{err}");
    if kernel < 5 {
        let b = with(Namespaces::empty(), Some(Landlock::new().allow("/dev", FsAccess::IOCTL_DEV)));
        let err = b.build().unwrap_err();
        assert!(matches!(err, Error::Config(ConfigError::Landlock(LandlockError::RuleNeedsAbi { needs: 5, .. }))));
    }
}

#[test]
fn rootless_landlock_without_no_new_privs_fails_build() {
    let mut b = with(Namespaces::empty(), Some(Landlock::new().read_exec("/")));
    b.no_new_privs(false);
    let err = b.build().unwrap_err();
    assert!(matches!(err, Error::Config(ConfigError::Landlock(LandlockError::NeedsNoNewPrivs))), "{err}");
}

#[test]
fn rootless_a_rule_for_a_path_missing_inside_names_it() {
    if !require_userns() {
        return;
    }
    // It exists on the host, but the sandbox's /tmp is a fresh tmpfs.
    let host_dir = tempfile::tempdir().unwrap();
    let b = with(common::full(), Some(Landlock::new().read_exec("/").read_only(host_dir.path())));
    if abi_or_refused(&b).is_none() {
        return;
    }
    let err = b.build().unwrap().spawn(&Command::new("/bin/true")).unwrap_err();
    let Error::Setup(setup) = &err else { panic!("expected a setup error, got {err}") };
    assert_eq!(setup.step, Step::Landlock);
    assert_eq!(setup.object, Some(SetupObject::Path(PathBuf::from(host_dir.path()))));
    assert_eq!(setup.errno, Errno::ENOENT);
    assert!(setup.hint.is_some_and(|h| h.contains("does not exist inside the sandbox")), "{err}");
}

#[test]
fn rootless_a_program_landlock_may_not_execute_gets_a_hint() {
    let b = with(Namespaces::empty(), Some(Landlock::new().read_only("/")));
    if abi_or_refused(&b).is_none() {
        return;
    }
    let err = b.build().unwrap().spawn(&Command::new("/bin/true")).unwrap_err();
    let Error::Setup(setup) = &err else { panic!("expected a setup error, got {err}") };
    assert_eq!((setup.step, setup.errno), (Step::Exec, Errno::EACCES), "{err}");
    assert!(setup.hint.is_some_and(|h| h.contains("EXECUTE")), "{err}");
    // With EXECUTE it runs.
    let b = with(Namespaces::empty(), Some(Landlock::new().read_exec("/")));
    assert!(sh_output(&b.build().unwrap(), "true").report.success());
}

#[test]
fn rootless_a_rule_never_follows_a_symbolic_link_inside_the_sandbox() {
    if !require_userns() {
        return;
    }
    // A root of the test's own with /link -> usr: the rule names the link.
    let root = tempfile::tempdir().unwrap();
    std::fs::set_permissions(root.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::create_dir(root.path().join("usr")).unwrap();
    std::os::unix::fs::symlink("usr", root.path().join("link")).unwrap();
    let mut b = with(common::full(), Some(Landlock::new().read_exec("/usr").read_write("/link")));
    b.rootfs(root.path()).mount(isobox::Mount::bind_ro("/usr", "/usr"));
    if abi_or_refused(&b).is_none() {
        return;
    }
    let err = b.build().unwrap().status(&Command::new("/usr/bin/true")).unwrap_err();
    let Error::Setup(setup) = &err else { panic!("expected a setup error, got {err}") };
    assert_eq!((setup.step, setup.errno), (Step::Landlock, Errno::ELOOP), "{err}");
    assert_eq!(setup.object, Some(SetupObject::Path("/link".into())), "{err}");
    assert!(err.to_string().contains("symbolic link"), "{err}");
}
