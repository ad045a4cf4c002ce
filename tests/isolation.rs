//! Isolation is real: hostname, pids, id maps, the root, read-only binds, the network.
mod common;

use std::path::Path;

use common::{require_root, require_userns, sandbox, sh};
use isobox::{IdRange, Mount, Namespaces, Resource, TimeOffsets, UserMapping, DEFAULT_ROOT_DIRS};

#[test]
fn rootless_hostname_and_domainname_are_the_sandboxes_and_the_hosts_unchanged() {
    if !require_userns() {
        return;
    }
    let host_before = nix::unistd::gethostname().unwrap();
    let sb = sandbox(|b| {
        b.hostname("isobox-test").domainname("isobox.example");
    });
    let out = sh(&sb, "hostname; cat /proc/sys/kernel/domainname");
    assert_eq!(out, "isobox-test\nisobox.example\n");
    assert_eq!(nix::unistd::gethostname().unwrap(), host_before);
}

#[test]
fn rootless_program_is_pid_2_beside_the_init_and_sees_only_its_own_processes() {
    if !require_userns() {
        return;
    }
    // The init names itself right after its exec, which the program does not wait for: until
    // then the kernel shows the executable's name ("memfd:isobox-in" or a descriptor number).
    // So the processes are listed first, and the name is read once it has had time to change.
    let name_soon = "for i in $(seq 100); do [ \"$(cat /proc/1/comm)\" = isobox-init ] && break; sleep 0.01; done";
    let script = format!("echo $$; ls /proc | grep -E '^[0-9]+$'; {name_soon}; cat /proc/1/comm");
    let out = sh(&sandbox(|_| {}), &script);
    let mut lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.pop(), Some("isobox-init"));
    assert_eq!(lines.first(), Some(&"2"));
    let pids: Vec<u32> = lines[1..].iter().map(|l| l.parse().unwrap()).collect();
    // The init (1), the shell (2) and the processes of its pipeline (ls was 3), nothing of
    // the host.
    assert!(pids.contains(&1) && pids.contains(&2), "{pids:?}");
    assert!(pids.len() <= 4 && pids.iter().all(|p| *p <= 5), "{pids:?}");
}

#[test]
fn rootless_without_the_init_the_program_is_pid_1() {
    if !require_userns() {
        return;
    }
    let out = sh(
        &sandbox(|b| {
            b.init(false);
        }),
        "echo $$; ls /proc | grep -E '^[0-9]+$'",
    );
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("1"));
    let pids: Vec<u32> = lines.map(|l| l.parse().unwrap()).collect();
    // The shell (1) and the processes of its pipeline, nothing of the host.
    assert!(pids.contains(&1), "{pids:?}");
    assert!(pids.len() <= 3 && pids.iter().all(|p| *p <= 3), "{pids:?}");
}

#[test]
fn rootless_uid_map_shows_the_callers_id_as_root_or_nobody_for_a_root_caller() {
    if !require_userns() {
        return;
    }
    let out = sh(&sandbox(|_| {}), "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g");
    let fields: Vec<Vec<&str>> = out.lines().map(|l| l.split_whitespace().collect()).collect();
    let (uid, gid) = common::sandbox_root_on_host();
    let (uid, gid) = (uid.to_string(), gid.to_string());
    assert_eq!(fields[0], ["0", uid.as_str(), "1"]);
    assert_eq!(fields[1], ["0", gid.as_str(), "1"]);
    assert_eq!(fields[2], ["0"]);
    assert_eq!(fields[3], ["0"]);
}

#[test]
fn a_chosen_single_mapping_and_uid_inside_are_applied() {
    if !require_root() {
        return;
    }
    let ranges = vec![IdRange::new(0, 0, 1), IdRange::new(1000, 100_000, 10)];
    let mapping = UserMapping::Ranges { uids: ranges.clone(), gids: ranges };
    let sb = sandbox(|b| {
        b.user_mapping(mapping);
    });
    let mut cmd = isobox::Command::new("/bin/sh");
    cmd.args(["-c", "cat /proc/self/uid_map; id -u; id -g; id -G"]).uid(1003).gid(1004).groups(&[1005]);
    let out = sb.output(&cmd).unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0].split_whitespace().collect::<Vec<_>>(), ["0", "0", "1"]);
    assert_eq!(lines[1].split_whitespace().collect::<Vec<_>>(), ["1000", "100000", "10"]);
    assert_eq!(&lines[2..], ["1003", "1004", "1004 1005"], "stderr: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn rootless_subordinate_ids_are_mapped_through_newuidmap() {
    if !require_userns() {
        return;
    }
    let helpers = Path::new("/usr/bin/newuidmap").exists() && Path::new("/usr/bin/newgidmap").exists();
    if !common::require(helpers, "newuidmap/newgidmap are not installed (package uidmap)") {
        return;
    }
    let sb = match isobox::Sandbox::builder().namespaces(common::full()).user_mapping(UserMapping::Subordinate).build()
    {
        Ok(sb) => sb,
        Err(e) => {
            common::require(false, &format!("this user has no subordinate ids: {e}"));
            return;
        }
    };
    let out = sh(&sb, "cat /proc/self/uid_map");
    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(lines[0], ["0", nix::unistd::geteuid().to_string().as_str(), "1"]);
    assert!(lines.len() >= 2 && lines[1][0] == "1", "a subordinate range follows: {out}");
}

#[test]
fn rootless_the_old_root_is_gone_and_dotdot_stays_at_the_root() {
    if !require_userns() {
        return;
    }
    // One mount on "/": the host's root, stacked on it by pivot_root(".", "."), was detached.
    let script =
        "cd /; cd ..; pwd; ls -a / | sort | tr '\\n' ' '; echo; awk '$5 == \"/\"' /proc/self/mountinfo | wc -l";
    let out = sh(&sandbox(|_| {}), script);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "/");
    for dir in ["usr", "etc", "proc", "dev", "tmp"] {
        assert!(lines[1].split(' ').any(|d| d == dir), "{dir} in {}", lines[1]);
    }
    for host_only in ["root", "home", "work", "var", "oldroot", "newroot"] {
        assert!(!lines[1].split(' ').any(|d| d == host_only), "{host_only} leaked: {}", lines[1]);
    }
    assert_eq!(lines[2..], ["1"], "mounts on /: {out}");
}

/// A rootfs directory that borrows the host's system directories the way the default root does.
fn host_like_rootfs(dir: &Path) -> Vec<Mount> {
    let mut mounts = Vec::new();
    for entry in DEFAULT_ROOT_DIRS {
        let host = Path::new(entry);
        let inside = dir.join(&entry[1..]);
        if let Ok(target) = std::fs::read_link(host) {
            std::os::unix::fs::symlink(target, inside).unwrap();
        } else if host.is_dir() {
            mounts.push(Mount::bind_ro(host, host));
        }
    }
    mounts
}

#[test]
fn rootless_rootfs_pivots_into_the_directory() {
    if !require_userns() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    common::give_to_sandbox(dir.path());
    std::fs::write(dir.path().join("marker"), "inside the rootfs\n").unwrap();
    let mounts = host_like_rootfs(dir.path());
    let sb = sandbox(|b| {
        b.rootfs(dir.path());
        for m in mounts {
            b.mount(m);
        }
    });
    let out = sh(&sb, "cat /marker; cd /..; pwd; ls /");
    assert!(out.starts_with("inside the rootfs\n/\n"), "{out}");
    let host_tmp_marker = dir.path().strip_prefix("/").unwrap().to_str().unwrap().to_string();
    assert!(!out.contains(&host_tmp_marker), "{out}");
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(files.contains(&"usr".into()), "mount points are created in the rootfs: {files:?}");
}

#[test]
fn rootless_a_readonly_bind_cannot_be_written_and_a_writable_one_can() {
    if !require_userns() {
        return;
    }
    let ro = tempfile::tempdir().unwrap();
    let rw = tempfile::tempdir().unwrap();
    for d in [&ro, &rw] {
        std::fs::set_permissions(d.path(), std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    }
    let sb = sandbox(|b| {
        b.mount(Mount::bind_ro(ro.path(), "/ro")).mount(Mount::bind(rw.path(), "/rw"));
    });
    let out = sh(&sb, "touch /ro/x 2>&1 | grep -c 'Read-only file system'; echo hi > /rw/y && echo wrote");
    assert_eq!(out, "1\nwrote\n");
    assert_eq!(std::fs::read_to_string(rw.path().join("y")).unwrap(), "hi\n");
    assert!(!ro.path().join("x").exists());
}

#[test]
fn a_readonly_bind_holds_for_submounts_too() {
    if !require_root() {
        return;
    }
    // Mount a tmpfs below the source in a mount namespace of this thread only, so the host
    // never sees it; the sandbox spawned from this thread inherits that namespace.
    let src = tempfile::tempdir().unwrap();
    std::fs::create_dir(src.path().join("sub")).unwrap();
    let path = src.path().to_path_buf();
    let out = std::thread::spawn(move || {
        use nix::mount::{mount, MsFlags};
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS | nix::sched::CloneFlags::CLONE_FS).unwrap();
        mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>).unwrap();
        mount(Some("tmpfs"), &path.join("sub"), Some("tmpfs"), MsFlags::empty(), None::<&str>).unwrap();
        let sb = sandbox(|b| {
            b.mount(Mount::bind_ro(&path, "/ro"));
        });
        sh(&sb, "grep -c ' /ro/sub ' /proc/self/mountinfo; touch /ro/sub/x 2>&1 | grep -c 'Read-only'")
    })
    .join()
    .unwrap();
    assert_eq!(out, "1\n1\n", "the submount is there and read-only");
}

#[test]
fn rootless_readonly_root_cannot_be_written() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|b| {
        b.readonly_root(true);
    });
    let out = sh(&sb, "mkdir /newdir 2>&1 | grep -c 'Read-only'; echo ok > /tmp/f && cat /tmp/f");
    assert_eq!(out, "1\nok\n");
}

#[test]
fn rootless_a_net_namespace_has_only_loopback_and_it_is_up() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|b| {
        b.namespaces(common::full() | Namespaces::NET);
    });
    let out = sh(&sb, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; cat /proc/net/if_inet6 2>/dev/null | wc -l");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "lo", "{out}");
    assert_eq!(lines.len(), 2, "only lo: {out}");
    // The sandbox has no /sys, so ask the kernel through `ip` (iproute2), which must be there.
    let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].into_iter().find(|p| Path::new(p).exists());
    let Some(ip) = ip else {
        common::require(false, "`ip` (iproute2) is not installed");
        return;
    };
    let link = sh(&sb, &format!("{ip} -o link show lo"));
    // "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 ...": UP among the interface's flags.
    let flags = link.strip_prefix("1: lo: <").and_then(|rest| rest.split_once('>')).map(|(flags, _)| flags);
    let flags: Vec<&str> =
        flags.unwrap_or_else(|| panic!("unexpected `ip link` output: {link:?}")).split(',').collect();
    assert!(flags.contains(&"UP"), "lo is not up: {link}");
}

#[test]
fn rootless_rlimits_environment_and_working_directory() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|b| {
        b.rlimit(Resource::NoFile, 64, 64).rlimit(Resource::Core, 0, 0);
    });
    assert_eq!(sh(&sb, "ulimit -n; ulimit -c"), "64\n0\n");
    let mut cmd = isobox::Command::new("env");
    cmd.current_dir("/tmp").env("ISOBOX_X", "1");
    let out = sb.output(&cmd).unwrap();
    let env = String::from_utf8(out.stdout).unwrap();
    assert_eq!(env, format!("ISOBOX_X=1\nPATH={}\n", isobox::DEFAULT_PATH));
    let mut cmd = isobox::Command::new("pwd");
    cmd.current_dir("/tmp");
    assert_eq!(sb.output(&cmd).unwrap().stdout, b"/tmp\n");
}

#[test]
fn rootless_time_namespace_offsets_the_boot_clock_or_is_refused_on_old_kernels() {
    if !require_userns() {
        return;
    }
    let day_ns = 86_400_000_000_000;
    let mut b = isobox::Sandbox::builder();
    b.namespaces(common::full() | Namespaces::TIME).time_offsets(TimeOffsets::new(day_ns, day_ns));
    if !common::kernel_at_least(6, 2) {
        let err = b.build().unwrap_err();
        assert!(matches!(err, isobox::Error::Config(isobox::ConfigError::KernelTooOld { .. })), "{err}");
        return;
    }
    let sb = b.build().unwrap();
    let out = sh(&sb, "cut -d' ' -f1 /proc/uptime; readlink /proc/self/ns/time; cat /proc/self/timens_offsets");
    let host: f64 = std::fs::read_to_string("/proc/uptime").unwrap().split(' ').next().unwrap().parse().unwrap();
    let lines: Vec<&str> = out.lines().collect();
    let uptime: f64 = lines[0].parse().unwrap();
    // Read before the host's: at most the host's plus a day (and /proc/uptime's rounding).
    assert!(uptime >= host + 86_000.0 && uptime <= host + 86_401.0, "inside {uptime}, host {host}");
    let host_ns = std::fs::read_link("/proc/self/ns/time").unwrap();
    assert_ne!(lines[1], host_ns.to_str().unwrap(), "the program runs in a new time namespace: {out}");
    // Both clocks are offset by exactly one day, as the kernel reports it.
    let offsets: Vec<Vec<&str>> = lines[2..].iter().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(offsets, [["monotonic", "86400", "0"], ["boottime", "86400", "0"]], "{out}");
}

#[test]
fn rootless_every_namespace_asked_for_is_new_and_the_rest_are_shared() {
    if !require_userns() {
        return;
    }
    let names = ["user", "pid", "mnt", "uts", "ipc", "net", "cgroup", "time"];
    let host: Vec<String> =
        names.iter().map(|n| std::fs::read_link(format!("/proc/self/ns/{n}")).unwrap().display().to_string()).collect();
    let script: String = names.iter().map(|n| format!("readlink /proc/self/ns/{n}; ")).collect();
    let modern = common::kernel_at_least(6, 2);
    let wanted = if modern { Namespaces::all() } else { Namespaces::all() - Namespaces::TIME };
    let all = sandbox(|b| {
        b.namespaces(wanted);
    });
    let inside = sh(&all, &script);
    assert_eq!(inside.lines().count(), names.len(), "{inside}");
    for (name, (h, i)) in names.iter().zip(host.iter().zip(inside.lines())) {
        if *name != "time" || modern {
            assert_ne!(h, i, "{name} namespace is the host's");
        }
    }
    let some = sandbox(|_| {});
    let inside = sh(&some, &script);
    assert_eq!(inside.lines().count(), names.len(), "{inside}");
    let shared: Vec<&str> =
        names.iter().zip(host.iter().zip(inside.lines())).filter(|(_, (h, i))| h == i).map(|(n, _)| *n).collect();
    assert_eq!(shared, ["net", "cgroup", "time"]);
}

#[test]
fn rootless_a_cgroup_namespace_shows_the_sandboxes_cgroup_as_the_root() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|b| {
        b.namespaces(common::full() | Namespaces::CGROUP);
    });
    let out = sh(&sb, "cat /proc/self/cgroup");
    assert!(!out.is_empty());
    for line in out.lines() {
        assert!(line.ends_with(":/"), "{out}");
    }
}

/// A sysctl of the sandbox's own network and IPC namespaces is set inside and read back;
/// the host's stays as it was.
#[test]
fn rootless_sysctls_of_the_sandboxs_own_namespaces_are_set_and_the_hosts_untouched() {
    if !common::require_userns() {
        return;
    }
    let host_before = std::fs::read_to_string("/proc/sys/kernel/shmmni").unwrap();
    let host_ping = std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range").unwrap();
    let sandbox = common::sandbox(|b| {
        b.namespaces(common::full() | isobox::Namespaces::NET)
            .sysctl("kernel.shmmni", "1234")
            .sysctl("net.ipv4.ping_group_range", "0 0")
            .sysctl("kernel.sem", "250  32000 32 128");
    });
    let out =
        common::sh(&sandbox, "cat /proc/sys/kernel/shmmni /proc/sys/net/ipv4/ping_group_range /proc/sys/kernel/sem");
    assert_eq!(out.split_whitespace().collect::<Vec<_>>(), ["1234", "0", "0", "250", "32000", "32", "128"]);
    assert_eq!(std::fs::read_to_string("/proc/sys/kernel/shmmni").unwrap(), host_before);
    assert_eq!(std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range").unwrap(), host_ping);
    let refused = isobox::Sandbox::builder().namespaces(common::full()).sysctl("net.ipv4.ip_forward", "1").build();
    assert!(matches!(refused, Err(isobox::Error::Config(isobox::ConfigError::Sysctl { .. }))), "{refused:?}");
    let out_of_range = common::sandbox(|b| {
        b.sysctl("kernel.shm_rmid_forced", "7");
    });
    let err = out_of_range.status(&common::cmd("/bin/true", &[])).unwrap_err();
    assert!(err.to_string().contains("kernel/shm_rmid_forced"), "{err}");
}

/// A mount's propagation, and the root's, are set inside the sandbox's namespace; nothing of
/// it appears in the caller's.
#[test]
fn rootless_propagation_is_set_inside_and_nothing_reaches_the_host() {
    if !common::require_userns() {
        return;
    }
    let host_before = std::fs::read_to_string("/proc/self/mountinfo").unwrap().lines().count();
    let sandbox = common::sandbox(|b| {
        b.mount(isobox::Mount::tmpfs("/shared").propagation(isobox::Propagation::Shared, false))
            .mount(isobox::Mount::tmpfs("/sealed").propagation(isobox::Propagation::Unbindable, false))
            .root_propagation(isobox::Propagation::Shared, false);
    });
    let info = common::sh(&sandbox, "cat /proc/self/mountinfo");
    let line =
        |target: &str| info.lines().find(|l| l.split(' ').nth(4) == Some(target)).unwrap_or_default().to_string();
    assert!(line("/shared").contains(" shared:"), "{info}");
    assert!(line("/sealed").contains(" unbindable"), "{info}");
    assert!(line("/").contains(" shared:"), "{info}");
    assert!(!line("/tmp").contains(" shared:"), "others stay private: {info}");
    let host_after = std::fs::read_to_string("/proc/self/mountinfo").unwrap().lines().count();
    assert_eq!(host_before, host_after);
    let misapplied = isobox::Sandbox::builder()
        .namespaces(common::full())
        .mount(isobox::Mount::mask("/x").propagation(isobox::Propagation::Shared, false))
        .build();
    assert!(misapplied.is_err());
}

/// The caller's own network namespace, joined, is the host's to it: no net sysctl there.
#[test]
fn rootless_a_net_sysctl_in_the_callers_own_namespace_is_refused() {
    let own = std::fs::File::open("/proc/self/ns/net").unwrap();
    let refused = isobox::Sandbox::builder()
        .namespaces(common::full())
        .network(isobox::Network::Join(std::sync::Arc::new(own.into())))
        .sysctl("net.ipv4.ping_group_range", "0 0")
        .build();
    assert!(matches!(refused, Err(isobox::Error::Config(isobox::ConfigError::Sysctl { .. }))), "{refused:?}");
}
