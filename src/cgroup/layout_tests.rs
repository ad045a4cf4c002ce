use super::*;

const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

const PURE_V2: &str = "\
25 1 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
";

#[test]
fn hybrid_hosts_put_each_controller_where_it_is_bound() {
    let mut layout = parse_mountinfo(HYBRID);
    layout.unified_controllers = vec!["hugetlb".into()];
    assert!(!layout.is_pure_v2());
    match layout.place(Controller::Memory) {
        Some(Place::V1(h)) => assert_eq!(h.mount, Path::new("/sys/fs/cgroup/memory")),
        other => panic!("{other:?}"),
    }
    match layout.place(Controller::CpuAcct) {
        Some(Place::V1(h)) => assert_eq!(h.mount, Path::new("/sys/fs/cgroup/cpuacct")),
        other => panic!("{other:?}"),
    }
    assert_eq!(layout.place(Controller::Io), None, "blkio is not mounted and v2 has no io");
}

#[test]
fn pure_v2_hosts_offer_what_cgroup_controllers_lists() {
    let mut layout = parse_mountinfo(PURE_V2);
    layout.unified_controllers = vec!["cpu".into(), "memory".into(), "pids".into()];
    assert!(layout.is_pure_v2());
    assert!(matches!(layout.place(Controller::Memory), Some(Place::V2(_))));
    assert_eq!(layout.place(Controller::Cpuset), None);
}

#[test]
fn dirs_account_for_the_mount_root() {
    let h = Hierarchy { mount: "/sys/fs/cgroup".into(), root: "/ctr".into(), controllers: vec![] };
    assert_eq!(dir_of(&h, Path::new("/ctr/isobox")), Path::new("/sys/fs/cgroup/isobox"));
    let h = Hierarchy { mount: "/sys/fs/cgroup/memory".into(), root: "/".into(), controllers: vec![] };
    assert_eq!(dir_of(&h, Path::new("/isobox/a")), Path::new("/sys/fs/cgroup/memory/isobox/a"));
}

#[test]
fn escaped_mount_points_are_unescaped() {
    let layout = parse_mountinfo("1 2 0:1 / /a\\040b rw - cgroup2 cgroup2 rw\n");
    assert_eq!(layout.unified.unwrap().mount, Path::new("/a b"));
}

#[test]
fn mount_options_are_not_taken_for_controllers() {
    let text = "\
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/x,name=systemd
41 31 0:38 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,noprefix,clone_children,cpu,cpuacct
42 31 0:39 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    let layout = parse_mountinfo(text);
    assert_eq!(layout.v1[0].controllers, ["name=systemd"]);
    assert_eq!(layout.v1[1].controllers, ["cpu", "cpuacct"]);
    // Only a named hierarchy besides cgroup2 (systemd's hybrid tracking): pure v2 for isobox.
    assert!(parse_mountinfo(&text.lines().filter(|l| !l.contains("/cpu ")).collect::<Vec<_>>().join("\n")).is_pure_v2());
}
