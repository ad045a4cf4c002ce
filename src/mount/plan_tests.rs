use std::collections::HashMap;

use std::ffi::CString;

use super::*;

/// A fake host: merged /usr (bin, sbin, lib, lib64 are links), no lib32/libx32.
struct FakeHost(HashMap<&'static str, HostPath>);

impl FakeHost {
    fn merged_usr() -> FakeHost {
        let mut m = HashMap::new();
        m.insert("/usr", HostPath::Dir);
        m.insert("/etc", HostPath::Dir);
        m.insert("/data", HostPath::Dir);
        m.insert("/data/file", HostPath::File);
        for (dir, to) in [("/bin", "usr/bin"), ("/sbin", "usr/sbin"), ("/lib", "usr/lib"), ("/lib64", "usr/lib64")] {
            m.insert(dir, HostPath::Symlink(to.into()));
        }
        FakeHost(m)
    }
}

impl Probe for FakeHost {
    fn probe(&self, path: &Path, _follow: bool) -> HostPath {
        self.0.get(path.to_str().unwrap()).cloned().unwrap_or(HostPath::Missing)
    }
}

fn input<'a>(rootfs: Option<&'a Path>, mounts: &'a [Mount]) -> PlanInput<'a> {
    PlanInput { default_root_at: Path::new("/tmp"), rootfs, mounts, readonly_root: false, pid_namespace: true }
}

fn ops(plan: &MountPlan) -> Vec<&Op> {
    plan.ops.iter().map(|p| &p.op).collect()
}

fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

#[test]
fn a_rootfs_is_bound_onto_itself_and_entered_last() {
    let plan = build_plan(&input(Some(Path::new("/srv/root")), &[]), &FakeHost::merged_usr()).unwrap();
    assert_eq!(plan.root, Path::new("/srv/root"));
    let ops = ops(&plan);
    assert_eq!(ops[0], &Op::MakePrivate);
    assert_eq!(ops[1], &Op::Bind { source: cs("/srv/root"), target: cs("/srv/root") });
    assert_eq!(ops.last().unwrap(), &&Op::EnterNewRoot { new_root: cs("/srv/root") });
}

#[test]
fn the_default_root_avoids_directories_holding_bind_sources() {
    let is_dir = |p: &Path| p != Path::new("/run");
    assert_eq!(default_root::mount_point(&[], &is_dir), Some("/tmp".into()));
    let mounts = [Mount::bind("/tmp/x", "/x"), Mount::bind("/mnt", "/m")];
    assert_eq!(default_root::mount_point(&mounts, &is_dir), Some("/var/tmp".into()));
    assert_eq!(default_root::mount_point(&[], &|_| false), None);
}

#[test]
fn default_root_binds_dirs_read_only_and_recreates_links() {
    let plan = build_plan(&input(None, &[]), &FakeHost::merged_usr()).unwrap();
    let ops = ops(&plan);
    assert_eq!(ops[1], &Op::Tmpfs { target: cs("/tmp"), data: cs("mode=0755") });
    let bind_usr = Op::Bind { source: cs("/usr"), target: cs("/tmp/usr") };
    let pos = ops.iter().position(|op| **op == bind_usr).expect("usr is bound");
    assert_eq!(ops[pos + 1], &Op::ReadOnly { target: cs("/tmp/usr"), recursive: true });
    assert!(ops.contains(&&Op::Symlink { target: cs("usr/bin"), link: cs("/tmp/bin") }));
    assert!(!ops.iter().any(|op| matches!(op, Op::Mkdir { path } if path.to_bytes().starts_with(b"/tmp/lib32"))));
    assert!(ops.contains(&&Op::Proc { target: cs("/tmp/proc") }));
    assert!(ops.contains(&&Op::Devpts { target: cs("/tmp/dev/pts") }));
    assert!(ops.contains(&&Op::Tmpfs { target: cs("/tmp/tmp"), data: cs("mode=1777") }));
}

#[test]
fn default_root_has_no_proc_without_a_pid_namespace() {
    let mut inp = input(None, &[]);
    inp.pid_namespace = false;
    let plan = build_plan(&inp, &FakeHost::merged_usr()).unwrap();
    assert!(!plan.ops.iter().any(|p| matches!(p.op, Op::Proc { .. })));
}

#[test]
fn user_mounts_follow_in_order_with_parents_created() {
    let mounts = [Mount::bind_ro("/data", "/mnt/a/data"), Mount::tmpfs("/scratch").size(4096).mode(0o700)];
    let plan = build_plan(&input(Some(Path::new("/r")), &mounts), &FakeHost::merged_usr()).unwrap();
    let user: Vec<_> =
        plan.ops.iter().filter(|p| matches!(p.part, MountPart::UserMount { .. })).map(|p| &p.op).collect();
    assert_eq!(
        user,
        vec![
            &Op::Mkdir { path: cs("/r/mnt") },
            &Op::Mkdir { path: cs("/r/mnt/a") },
            &Op::Mkdir { path: cs("/r/mnt/a/data") },
            &Op::Bind { source: cs("/data"), target: cs("/r/mnt/a/data") },
            &Op::ReadOnly { target: cs("/r/mnt/a/data"), recursive: true },
            &Op::Mkdir { path: cs("/r/scratch") },
            &Op::Tmpfs { target: cs("/r/scratch"), data: cs("mode=0700,size=4096") },
        ]
    );
    let second = plan.ops.iter().find(|p| matches!(p.part, MountPart::UserMount { index: 1, .. }));
    assert!(second.is_some());
}

#[test]
fn a_file_source_gets_a_file_mount_point() {
    let mounts = [Mount::bind("/data/file", "/etc/x")];
    let plan = build_plan(&input(Some(Path::new("/r")), &mounts), &FakeHost::merged_usr()).unwrap();
    assert!(ops(&plan).contains(&&Op::Touch { path: cs("/r/etc/x") }));
}

#[test]
fn a_missing_bind_source_is_a_config_error() {
    let mounts = [Mount::bind("/nope", "/x")];
    let err = build_plan(&input(None, &mounts), &FakeHost::merged_usr()).unwrap_err();
    assert!(matches!(err, ConfigError::Path { what: "bind source", .. }), "{err}");
}

#[test]
fn readonly_root_is_applied_after_the_user_mounts() {
    let mounts = [Mount::tmpfs("/scratch")];
    let mut inp = input(None, &mounts);
    inp.readonly_root = true;
    let plan = build_plan(&inp, &FakeHost::merged_usr()).unwrap();
    let n = plan.ops.len();
    assert_eq!(plan.ops[n - 2].op, Op::ReadOnly { target: cs("/tmp"), recursive: false });
    assert_eq!(plan.ops[n - 2].part, MountPart::ReadOnlyRoot);
}
