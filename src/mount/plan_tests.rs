use std::collections::HashMap;

use std::ffi::CString;

use super::*;
use crate::mount::ops::{Fs, InRoot, Masks};

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
    PlanInput {
        default_root_at: Path::new("/tmp"),
        rootfs,
        overlay: None,
        mounts,
        readonly_root: false,
        pid_namespace: true,
        masks: Masks::HiddenAndReadOnly,
        root_propagation: None,
    }
}

fn ops(plan: &MountPlan) -> Vec<&Op> {
    plan.ops.iter().map(|p| &p.op).collect()
}

fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn at(s: &str) -> InRoot {
    InRoot::new(Path::new(s))
}

fn fresh(fs: Fs, target: &str, options: &[(&str, &str)]) -> Op {
    let options = options.iter().map(|(k, v)| (cs(k), cs(v))).collect();
    let attrs = match fs {
        Fs::Tmpfs => 0x6,
        Fs::Proc => 0xe,
        Fs::Devpts => 0xa,
        Fs::Sysfs => 0xf,
        Fs::Mqueue => 0xe,
    };
    Op::Fresh { fs, target: at(target), options, attrs }
}

#[test]
fn a_rootfs_is_bound_onto_itself_and_entered_last() {
    let plan = build_plan(&input(Some(Path::new("/srv/root")), &[]), &FakeHost::merged_usr()).unwrap();
    assert_eq!(plan.root, Path::new("/srv/root"));
    let ops = ops(&plan);
    assert_eq!(ops[0], &Op::MakePrivate);
    assert_eq!(ops[1], &Op::RootBind { path: cs("/srv/root") });
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
fn a_bind_source_through_a_link_keeps_the_directory_it_resolves_to_visible() {
    // As /var/run is /run on many hosts: the link is where the source is given, /run where the
    // child finds it, after the default root's tmpfs (or an overlay) sits on its staging directory.
    let base = tempfile::tempdir().unwrap();
    let link = base.path().join("run");
    std::os::unix::fs::symlink("/run", &link).unwrap();
    let is_dir = |p: &Path| p != Path::new("/tmp") && p != Path::new("/mnt");
    let mounts = [Mount::bind(&link, "/x")];
    assert_eq!(default_root::mount_point(&mounts, &is_dir), Some("/var/tmp".into()));
    assert_eq!(default_root::bind_sources(&mounts), [link, "/run".into()]);
}

#[test]
fn default_root_binds_dirs_read_only_and_recreates_links() {
    let plan = build_plan(&input(None, &[]), &FakeHost::merged_usr()).unwrap();
    let ops = ops(&plan);
    assert_eq!(ops[1], &Op::RootTmpfs { at: cs("/tmp"), options: vec![(cs("mode"), cs("0755"))] });
    assert!(ops.contains(&&Op::Bind {
        source: cs("/usr"),
        target: at("/usr"),
        readonly: true,
        devices: false,
        extra: 0
    }));
    assert!(ops.contains(&&Op::Symlink { target: cs("usr/bin"), link: at("/bin") }));
    assert!(!ops.iter().any(|op| matches!(op, Op::Mkdir { path } if path.path.to_bytes().starts_with(b"lib32"))));
    let proc = ops.iter().position(|op| **op == fresh(Fs::Proc, "/proc", &[])).expect("a procfs");
    assert_eq!(ops[proc + 1], &Op::Mask { proc: "/proc".into(), name: c"acpi", dir: true });
    assert!(ops.contains(&&fresh(Fs::Devpts, "/dev/pts", &[("ptmxmode", "0666"), ("mode", "0620")])));
    assert!(ops.contains(&&fresh(Fs::Tmpfs, "/tmp", &[("mode", "1777")])));
}

#[test]
fn default_root_has_no_proc_without_a_pid_namespace() {
    let mut inp = input(None, &[]);
    inp.pid_namespace = false;
    let plan = build_plan(&inp, &FakeHost::merged_usr()).unwrap();
    assert!(!plan.ops.iter().any(|p| matches!(p.op, Op::Fresh { fs: Fs::Proc, .. } | Op::Mask { .. })));
}

#[test]
fn sysfs_mqueue_masks_and_read_only_paths_map_in_order_and_create_nothing_to_mask() {
    let mounts = [
        Mount::sysfs("/sys"),
        Mount::mqueue("/dev/mqueue"),
        Mount::tmpfs("/run").noexec(),
        Mount::bind("/data", "/data").nosuid().noexec(),
        Mount::mask("/sys/firmware"),
        Mount::read_only("/proc/sys"),
    ];
    let plan = build_plan(&input(Some(Path::new("/r")), &mounts), &FakeHost::merged_usr()).unwrap();
    let user: Vec<_> =
        plan.ops.iter().filter(|p| matches!(p.part, MountPart::UserMount { .. })).map(|p| &p.op).collect();
    let nosuid_noexec = crate::sys::mount_api::MOUNT_ATTR_NOSUID | crate::sys::mount_api::MOUNT_ATTR_NOEXEC;
    let mut noexec_tmpfs = fresh(Fs::Tmpfs, "/run", &[("mode", "0755")]);
    if let Op::Fresh { attrs, .. } = &mut noexec_tmpfs {
        *attrs |= crate::sys::mount_api::MOUNT_ATTR_NOEXEC;
    }
    assert_eq!(
        user,
        vec![
            &Op::Mkdir { path: at("/sys") },
            &fresh(Fs::Sysfs, "/sys", &[]),
            &Op::Mkdir { path: at("/dev") },
            &Op::Mkdir { path: at("/dev/mqueue") },
            &fresh(Fs::Mqueue, "/dev/mqueue", &[]),
            &Op::Mkdir { path: at("/run") },
            &noexec_tmpfs,
            &Op::Mkdir { path: at("/data") },
            &Op::Bind {
                source: cs("/data"),
                target: at("/data"),
                readonly: false,
                devices: false,
                extra: nosuid_noexec
            },
            &Op::MaskPath { target: at("/sys/firmware") },
            &Op::ReadOnlyPath { target: at("/proc/sys") },
        ]
    );
}

#[test]
fn noexec_and_nosuid_on_other_kinds_are_refused_as_misapplied() {
    assert_eq!(Mount::proc("/proc").noexec().misapplied, Some("noexec"));
    assert_eq!(Mount::mask("/x").nosuid().misapplied, Some("nosuid"));
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
            &Op::Mkdir { path: at("/mnt") },
            &Op::Mkdir { path: at("/mnt/a") },
            &Op::Mkdir { path: at("/mnt/a/data") },
            &Op::Bind { source: cs("/data"), target: at("/mnt/a/data"), readonly: true, devices: false, extra: 0 },
            &Op::Mkdir { path: at("/scratch") },
            &fresh(Fs::Tmpfs, "/scratch", &[("mode", "0700"), ("size", "4096")]),
        ]
    );
    let second = plan.ops.iter().find(|p| matches!(p.part, MountPart::UserMount { index: 1, .. }));
    assert!(second.is_some());
}

#[test]
fn a_file_source_gets_a_file_mount_point() {
    let mounts = [Mount::bind("/data/file", "/etc/x")];
    let plan = build_plan(&input(Some(Path::new("/r")), &mounts), &FakeHost::merged_usr()).unwrap();
    assert!(ops(&plan).contains(&&Op::Touch { path: at("/etc/x") }));
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
    assert_eq!(plan.ops[n - 2].op, Op::ReadOnlyRoot { path: cs("/tmp") });
    assert_eq!(plan.ops[n - 2].part, MountPart::ReadOnlyRoot);
}

#[test]
fn every_procfs_gets_the_masks_unless_they_are_off() {
    let mounts = [Mount::proc("/x/proc")];
    let masks = |masks: Masks| {
        let mut inp = input(Some(Path::new("/r")), &mounts);
        inp.masks = masks;
        let plan = build_plan(&inp, &FakeHost::merged_usr()).unwrap();
        let count = |f: fn(&Op) -> bool| plan.ops.iter().filter(|p| f(&p.op)).count();
        (count(|op| matches!(op, Op::Mask { .. })), count(|op| matches!(op, Op::ReadOnlyEntry { .. })))
    };
    assert_eq!(masks(Masks::HiddenAndReadOnly), (10, 5));
    assert_eq!(masks(Masks::Hidden), (10, 0));
    assert_eq!(masks(Masks::Off), (0, 0));
    assert_eq!(crate::mount::masks::masks_for(true, false), Masks::Hidden);
    assert_eq!(crate::mount::masks::masks_for(true, true), Masks::HiddenAndReadOnly);
    assert_eq!(crate::mount::masks::masks_for(false, true), Masks::Off);
}
