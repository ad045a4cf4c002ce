//! The doctor's report against what spawning does: for each feature a spawn can try, the
//! spawn works where the doctor says it works, and fails with the matching typed error where
//! it says missing or forbidden. Named `rootless_` so that CI runs them as a user too.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::OnceLock;

use isobox::{
    CgroupLayoutKind, Check, CheckState, Command, ConfigError, Detail, DoctorReport, Error, Mount, Namespaces, Network,
    NetworkError, OverlayRoot, Sandbox, SpawnError, UserNet, UserNetError,
};

/// One report for the whole file (it is the host's, not a test's).
fn report() -> &'static DoctorReport {
    static REPORT: OnceLock<DoctorReport> = OnceLock::new();
    REPORT.get_or_init(|| {
        let report = isobox::doctor();
        eprintln!("{report}");
        report
    })
}

fn spawn_error(check: Check) -> Option<&'static Error> {
    match &report().get(check)?.detail {
        Detail::Spawn { error, .. } => error.as_deref(),
        other => panic!("{check}: not a spawn's detail: {other:?}"),
    }
}

fn errno_of(error: &Error) -> Option<nix::errno::Errno> {
    match error {
        Error::Spawn(SpawnError::Clone { errno, .. }) => Some(*errno),
        Error::Setup(e) => Some(e.errno),
        _ => None,
    }
}

/// The doctor's state for `check` against `result`, a spawn that needs the feature.
fn agrees(check: Check, result: Result<isobox::ExitReport, Error>) {
    let state = report().state(check);
    match (state, result) {
        (CheckState::Works, Ok(exit)) => assert!(exit.success(), "{check}: {exit:?}"),
        (CheckState::Works, Err(e)) => panic!("the doctor says {check} works, but the spawn failed: {e}"),
        (state, Ok(exit)) => panic!("the doctor says {check} is {state}, but the spawn ran: {exit:?}"),
        (_, Err(e)) => {
            let doctor = spawn_error(check).expect("a failed check keeps its spawn's error");
            assert_eq!(std::mem::discriminant(doctor), std::mem::discriminant(&e), "{check}: {doctor} / {e}");
            assert_eq!(errno_of(doctor), errno_of(&e), "{check}: {doctor} / {e}");
        }
    }
}

#[test]
fn rootless_the_doctor_is_quick_and_every_problem_has_a_fix() {
    let report = isobox::doctor();
    // ~50 ms on the CI host; the bound is the helpers' 5 s deadline (a cold start from the
    // VM's 9p root took 2 s), past which a hung helper is reported, not waited for.
    assert!(report.elapsed.as_secs_f64() < 6.0, "took {:?}", report.elapsed);
    assert_eq!(report.findings.len(), 26);
    for finding in report.problems() {
        assert!(finding.fix.is_some(), "{} is {} without a fix", finding.check, finding.state);
    }
}

#[test]
fn rootless_user_namespaces_as_the_doctor_says() {
    let sandbox = Sandbox::builder().namespaces(Namespaces::USER).build().unwrap();
    agrees(Check::UserNamespaces, sandbox.status(&Command::new("/bin/true")));
    if !common::is_root() && report().state(Check::UserNamespaces) == CheckState::Works {
        // An unprivileged caller who has them: the host's policy must allow them.
        assert_eq!(report().state(Check::UnprivilegedUserNamespaces), CheckState::Works);
    }
}

#[test]
fn rootless_time_namespace_as_the_doctor_says() {
    let ns = if common::is_root() { Namespaces::TIME } else { Namespaces::USER | Namespaces::TIME };
    let result = Sandbox::builder().namespaces(ns).build().and_then(|s| s.status(&Command::new("/bin/true")));
    if let Err(Error::Config(ConfigError::KernelTooOld { needs, .. })) = &result {
        assert_eq!(report().state(Check::TimeNamespace), CheckState::Missing);
        assert!(!common::kernel_at_least(needs.0, needs.1));
    }
    agrees(Check::TimeNamespace, result);
}

#[test]
fn rootless_overlay_in_a_user_namespace_as_the_doctor_says() {
    let lower = tempfile::tempdir().unwrap();
    std::fs::set_permissions(lower.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut builder = Sandbox::builder();
    builder.namespaces(Namespaces::USER | Namespaces::MOUNT);
    std::fs::create_dir(lower.path().join("usr")).unwrap();
    builder.mount(Mount::bind_ro("/usr", "/usr"));
    for top in ["bin", "sbin", "lib", "lib64"] {
        let host = Path::new("/").join(top);
        match std::fs::read_link(&host) {
            Ok(to) => std::os::unix::fs::symlink(to, lower.path().join(top)).unwrap(),
            Err(_) if host.is_dir() => {
                std::fs::create_dir(lower.path().join(top)).unwrap();
                builder.mount(Mount::bind_ro(&host, &host));
            }
            Err(_) => {}
        }
    }
    builder.overlay_root(OverlayRoot::new([lower.path()]));
    let result = builder.build().and_then(|s| s.status(&Command::new("/bin/true")));
    agrees(Check::OverlayInUserNamespace, result);
}

#[cfg(feature = "landlock")]
#[test]
fn rootless_the_landlock_abi_is_the_sandboxes() {
    let built = Sandbox::builder().landlock(isobox::Landlock::new().read_exec("/")).build();
    let Some(isobox::Finding { detail: Detail::Landlock { kernel, used }, .. }) = report().get(Check::Landlock) else {
        panic!("no Landlock line");
    };
    match built {
        Ok(sandbox) => {
            assert_eq!(sandbox.landlock_abi(), *used);
            assert_eq!(report().state(Check::Landlock), CheckState::Works);
        }
        Err(e) => {
            assert!(kernel.is_err(), "the doctor read ABI {kernel:?}, build() failed: {e}");
            assert_ne!(report().state(Check::Landlock), CheckState::Works);
        }
    }
}

#[test]
fn rootless_the_cgroup_layout_is_the_one_a_memory_limit_uses() {
    let sandbox = Sandbox::builder().namespaces(Namespaces::USER).memory_max(64 << 20).build().unwrap();
    let mut cat = Command::new("/bin/cat");
    cat.arg("/proc/self/cgroup").stdout(isobox::Stdio::piped());
    let result = sandbox.output(&cat);
    let delegation = report().state(Check::CgroupDelegation);
    if delegation == CheckState::NeedsSetup {
        // A delegated v2 cgroup still has to be passed as cgroup_parent(): this test has none.
        assert!(!common::is_root(), "root needs no delegation");
        assert!(matches!(result, Err(Error::Cgroup(isobox::CgroupError::NoDelegation { .. }))), "{result:?}");
        return;
    }
    match (delegation, result) {
        (CheckState::Works, Ok(out)) => {
            assert!(out.report.success());
            let text = String::from_utf8(out.stdout).unwrap();
            let Some(isobox::Finding { detail: Detail::CgroupLayout { kind, .. }, .. }) =
                report().get(Check::CgroupLayout)
            else {
                panic!("no layout line");
            };
            let memory_line = match kind {
                CgroupLayoutKind::V2 => text.lines().find(|l| l.starts_with("0::")),
                _ => text.lines().find(|l| l.split(':').nth(1).is_some_and(|c| c.split(',').any(|c| c == "memory"))),
            };
            let line = memory_line.unwrap_or_else(|| panic!("{kind:?}: no memory cgroup in\n{text}"));
            assert!(line.contains("/isobox/"), "{kind:?}: the sandbox's memory cgroup is not isobox's: {line}");
        }
        (state, Ok(out)) => panic!("the doctor says cgroup delegation is {state}, but the spawn ran: {out:?}"),
        (CheckState::Works, Err(e)) => panic!("the doctor says cgroups work, but the spawn failed: {e}"),
        (_, Err(e)) => assert!(matches!(e, Error::Cgroup(_)), "{e}"),
    }
}

#[test]
fn rootless_user_mode_networking_as_the_doctor_says() {
    if report().state(Check::UserNamespaces) != CheckState::Works {
        eprintln!("skipped: no user namespaces here (the doctor's user namespace line is checked on its own)");
        return;
    }
    let sandbox = Sandbox::builder().namespaces(Namespaces::USER).network(Network::UserMode(UserNet::pasta())).build();
    let result = sandbox.unwrap().status(&Command::new("/bin/true"));
    let pasta = report().state(Check::Pasta);
    let tun = report().state(Check::Tun);
    match (pasta, tun, result) {
        (CheckState::Works, CheckState::Works, Ok(exit)) => {
            assert!(exit.success());
            assert_eq!(report().state(Check::UserModeNetworking), CheckState::Works);
        }
        (CheckState::Works, CheckState::Works, Err(e)) => panic!("the doctor says pasta and tun work: {e}"),
        (CheckState::Missing, _, Err(e)) => {
            assert!(matches!(e, Error::Network(NetworkError::UserMode(UserNetError::NotInstalled { .. }))), "{e}");
        }
        (_, tun, Err(e)) => {
            assert_ne!(tun, CheckState::Works, "{e}");
            assert!(matches!(e, Error::Network(NetworkError::UserMode(_))), "{e}");
            assert_ne!(report().state(Check::UserModeNetworking), CheckState::Works);
        }
        (pasta, tun, Ok(exit)) => panic!("the doctor says pasta {pasta}, tun {tun}, but the spawn ran: {exit:?}"),
    }
}

/// Set in the sandbox of the test below, so that the tests it runs there do not nest again.
const INSIDE: &str = "ISOBOX_DOCTOR_TEST_INSIDE";

/// The tests above, run again inside a sandbox whose default seccomp filter denies new
/// namespaces (EPERM) and clone3 (ENOSYS): there the doctor must call user and time
/// namespaces and overlay roots forbidden, clone3 missing, and the spawns must fail the same way.
#[test]
fn rootless_under_a_filter_that_denies_namespaces_the_doctor_and_the_spawns_agree() {
    if std::env::var_os(INSIDE).is_some() || !common::require_userns() {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let sandbox = common::sandbox(|b| {
        b.mount(Mount::bind_ro(exe.parent().unwrap(), "/isobox-test-bin"));
        // A staging directory for the overlay test's root, whose layer is in /tmp.
        b.mount(Mount::tmpfs("/mnt"));
    });
    let mut cmd = Command::new(Path::new("/isobox-test-bin").join(exe.file_name().unwrap()));
    cmd.args(["--exact", "--test-threads=1", "--nocapture"]);
    cmd.args([
        "rootless_the_doctor_is_quick_and_every_problem_has_a_fix",
        "rootless_user_namespaces_as_the_doctor_says",
        "rootless_time_namespace_as_the_doctor_says",
        "rootless_overlay_in_a_user_namespace_as_the_doctor_says",
    ]);
    cmd.env(INSIDE, "1").stdout(isobox::Stdio::piped()).stderr(isobox::Stdio::piped());
    let out = sandbox.output(&cmd).unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.report.success() && stdout.contains("4 passed"), "{:?}\n{stdout}\n{stderr}", out.report);
    // A row of the table: its first line and the wrapped ones below it.
    let line = |item: &str| {
        let mut lines = stderr.lines().skip_while(|l| !l.starts_with(item));
        let first = lines.next().unwrap_or_else(|| panic!("{item}: {stderr}"));
        lines.take_while(|l| l.starts_with(' ')).fold(first.to_string(), |row, l| row + "\n" + l)
    };
    for item in ["user namespaces (caller)", "time namespace", "overlayfs in a user ns"] {
        if item == "time namespace" && !common::kernel_at_least(6, 2) {
            // Refused at build() before any clone: missing, whatever the filter.
            assert!(line(item).contains("| missing   |"), "{}", line(item));
            continue;
        }
        assert!(line(item).contains("| forbidden |") && line(item).contains("EPERM"), "{}", line(item));
    }
    assert!(line("clone3 ").contains("| missing   |") && line("clone3 ").contains("ENOSYS"), "{}", line("clone3 "));
}
