//! Capabilities are dropped by default, a chosen set is kept, ambient ones survive exec as a
//! non-root uid; read from inside (/proc/self/status of the program) and tried for real.
mod common;

use std::os::unix::fs::MetadataExt;

use common::{full, is_root, require_root, require_userns, sandbox, sh, sh_output};
use isobox::{Capabilities, Command, ConfigError, Error, IdRange, Namespaces, Sandbox, UserMapping};

/// The five sets of the program itself (the shell's own /proc/self/status, read with builtins).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sets {
    inh: u64,
    prm: u64,
    eff: u64,
    bnd: u64,
    amb: u64,
}

const READ_SETS: &str = "while read -r key value; do case $key in Cap*) echo \"$key $value\";; esac; done \
                         < /proc/self/status";

fn parse(text: &str) -> Sets {
    let field = |name: &str| {
        let line = text.lines().find_map(|l| l.strip_prefix(name)).unwrap_or_else(|| panic!("no {name} in {text}"));
        u64::from_str_radix(line.trim(), 16).unwrap()
    };
    Sets {
        inh: field("CapInh:"),
        prm: field("CapPrm:"),
        eff: field("CapEff:"),
        bnd: field("CapBnd:"),
        amb: field("CapAmb:"),
    }
}

fn sets(sb: &Sandbox) -> Sets {
    parse(&sh(sb, READ_SETS))
}

/// Runs `script` as `uid`:`gid` inside and returns its stdout.
fn sh_as(sb: &Sandbox, uid: u32, script: &str) -> String {
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", script]).uid(uid).gid(uid);
    let out = sb.output(&cmd).unwrap();
    assert!(out.report.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn empty() -> Sets {
    Sets { inh: 0, prm: 0, eff: 0, bnd: 0, amb: 0 }
}

/// Python inside: binds TCP port 80 on loopback and prints OK or the errno's name.
const BIND_80: &str = "/usr/bin/python3 -c 'import socket, errno\ntry:\n socket.socket().bind((\"127.0.0.1\", 80)); \
                       print(\"OK\")\nexcept OSError as e:\n print(errno.errorcode[e.errno])'";

#[test]
fn rootless_the_default_empties_all_five_sets_of_root_in_a_user_namespace() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|_| {});
    assert_eq!(sh(&sb, "id -u"), "0\n");
    assert_eq!(sets(&sb), empty());
}

#[test]
fn rootless_docker_default_keeps_exactly_its_14() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|b| {
        b.capabilities(Capabilities::DOCKER_DEFAULT);
    });
    let docker = 0xa804_25fb;
    assert_eq!(sets(&sb), Sets { inh: 0, prm: docker, eff: docker, bnd: docker, amb: 0 });
}

#[test]
fn rootless_a_custom_set_is_kept_in_both_words() {
    if !require_userns() {
        return;
    }
    let keep = Capabilities::NET_ADMIN | Capabilities::SYS_ADMIN | Capabilities::CHECKPOINT_RESTORE;
    let sb = sandbox(|b| {
        b.capabilities(keep);
    });
    let bits = keep.bits();
    assert_eq!(bits, (1 << 12) | (1 << 21) | (1 << 40));
    assert_eq!(sets(&sb), Sets { inh: 0, prm: bits, eff: bits, bnd: bits, amb: 0 });
}

#[test]
fn rootless_ambient_capabilities_are_raised_for_root_too() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|b| {
        b.capabilities(Capabilities::NET_BIND_SERVICE | Capabilities::NET_RAW)
            .ambient_capabilities(Capabilities::NET_BIND_SERVICE);
    });
    let (nbs, both) = (1 << 10, (1 << 10) | (1 << 13));
    assert_eq!(sets(&sb), Sets { inh: nbs, prm: both, eff: both, bnd: both, amb: nbs });
}

#[test]
fn ambient_capabilities_stay_effective_for_a_non_root_uid_after_exec() {
    if !require_root() {
        return;
    }
    let ranges = vec![IdRange::new(0, 0, 1), IdRange::new(1000, 100_000, 10)];
    let keep = Capabilities::NET_BIND_SERVICE | Capabilities::NET_RAW | Capabilities::KILL;
    let build = |ambient| {
        let mut b = Sandbox::builder();
        b.namespaces(full() | Namespaces::NET)
            .user_mapping(UserMapping::Ranges { uids: ranges.clone(), gids: ranges.clone() })
            .capabilities(keep)
            .ambient_capabilities(ambient);
        b.build().unwrap()
    };
    let with = build(Capabilities::NET_BIND_SERVICE);
    let nbs = 1 << 10;
    assert_eq!(sh_as(&with, 1000, "id -u"), "1000\n");
    let inside = parse(&sh_as(&with, 1000, READ_SETS));
    assert_eq!(inside, Sets { inh: nbs, prm: nbs, eff: nbs, bnd: keep.bits(), amb: nbs });
    assert_eq!(sh_as(&with, 1000, BIND_80), "OK\n");
    // Kept but not ambient: a non-root program loses them at exec.
    let without = build(Capabilities::empty());
    assert_eq!(parse(&sh_as(&without, 1000, READ_SETS)), Sets { bnd: keep.bits(), ..empty() });
    assert_eq!(sh_as(&without, 1000, BIND_80), "EACCES\n");
}

#[test]
fn a_root_caller_without_a_user_namespace_can_hand_ambient_capabilities_to_another_uid() {
    if !require_root() {
        return;
    }
    let mut b = Sandbox::builder();
    b.namespaces(Namespaces::NET)
        .capabilities(Capabilities::NET_BIND_SERVICE)
        .ambient_capabilities(Capabilities::NET_BIND_SERVICE);
    let sb = b.build().unwrap();
    let nbs = 1 << 10;
    assert_eq!(parse(&sh_as(&sb, 65534, READ_SETS)), Sets { inh: nbs, prm: nbs, eff: nbs, bnd: nbs, amb: nbs });
    assert_eq!(sh_as(&sb, 65534, BIND_80), "OK\n");
}

#[test]
fn rootless_without_a_user_namespace_nothing_is_kept() {
    let sb = Sandbox::builder().build().unwrap();
    let inside = sets(&sb);
    let own = std::fs::read_to_string("/proc/thread-self/status").unwrap();
    let own = parse(&own);
    // Root drops its bounding set; a caller without CAP_SETPCAP cannot, and keeps its own,
    // which grants nothing with no_new_privs.
    let bounding = if own.eff & (1 << 8) != 0 { 0 } else { own.bnd };
    assert_eq!(inside, Sets { bnd: bounding, ..empty() });
    assert!(sh(&sb, "grep NoNewPrivs /proc/self/status").contains('1'));
    if !is_root() {
        let err = Sandbox::builder().capabilities(Capabilities::CHOWN).build().unwrap_err();
        assert!(
            matches!(err, Error::Config(ConfigError::CapabilityNotHeld { capabilities: Capabilities::CHOWN })),
            "{err}"
        );
    }
}

#[test]
fn a_root_caller_without_a_user_namespace_cannot_chown_or_mknod_on_the_host() {
    if !require_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (file, node) = (dir.path().join("file"), dir.path().join("null"));
    std::fs::write(&file, "x").unwrap();
    let script =
        format!("chown 4242 {0}; echo chown $?; mknod {1} c 1 3; echo mknod $?", file.display(), node.display());
    // As root (UserMapping::Current; the default would run it as nobody): only the
    // capabilities stand in the way.
    let sb = Sandbox::builder().user_mapping(isobox::UserMapping::Current).build().unwrap();
    assert_eq!(sets(&sb), empty());
    let out = sh_output(&sb, &script);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "chown 1\nmknod 1\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("Operation not permitted").count(), 2, "{stderr}");
    assert_eq!(std::fs::metadata(&file).unwrap().uid(), 0);
    assert!(!node.exists());
    // The same script with the two capabilities kept changes the host: the test can fail.
    let mut b = Sandbox::builder();
    b.user_mapping(isobox::UserMapping::Current).capabilities(Capabilities::CHOWN | Capabilities::MKNOD);
    let sb = b.build().unwrap();
    assert_eq!(sh(&sb, &script), "chown 0\nmknod 0\n");
    assert_eq!(std::fs::metadata(&file).unwrap().uid(), 4242);
    assert!(node.exists());
}

/// Inside: mount a tmpfs over /tmp (python, to see the errno), then take loopback down.
const ADMIN: &str = "/usr/bin/python3 -c 'import ctypes, errno\nlibc = ctypes.CDLL(None, use_errno=True)\n\
                     r = libc.mount(b\"none\", b\"/tmp\", b\"tmpfs\", 0, None)\n\
                     print(\"mount\", \"OK\" if r == 0 else errno.errorcode[ctypes.get_errno()])'; \
                     /usr/sbin/ip link set lo down 2>/dev/null; echo link $?; /usr/sbin/ip -o link show lo";

#[test]
fn rootless_in_a_user_namespace_dropped_capabilities_forbid_mount_and_link_changes() {
    if !require_userns() {
        return;
    }
    let host_lo_up = || std::fs::read_to_string("/sys/class/net/lo/operstate").unwrap();
    let host_before = host_lo_up();
    // Without the seccomp filter (which refuses mount too), so that the capabilities are
    // what stands in the way.
    let sb = sandbox(|b| {
        b.namespaces(full() | Namespaces::NET).seccomp(isobox::Seccomp::none());
    });
    let out = sh(&sb, ADMIN);
    assert!(out.starts_with("mount EPERM\nlink 2\n"), "{out}");
    assert!(out.contains(",UP,"), "loopback was taken down: {out}");
    // With CAP_SYS_ADMIN and CAP_NET_ADMIN kept (in the namespace only), both work.
    let sb = sandbox(|b| {
        b.namespaces(full() | Namespaces::NET)
            .capabilities(Capabilities::SYS_ADMIN | Capabilities::NET_ADMIN)
            .seccomp(isobox::Seccomp::none());
    });
    let out = sh(&sb, ADMIN);
    assert!(out.starts_with("mount OK\nlink 0\n") && !out.contains(",UP,"), "{out}");
    assert_eq!(host_lo_up(), host_before);
}

#[test]
fn capability_sets_that_cannot_work_are_refused_at_build() {
    let err = Sandbox::builder()
        .namespaces(Namespaces::USER)
        .capabilities(Capabilities::KILL)
        .ambient_capabilities(Capabilities::KILL | Capabilities::CHOWN)
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config(ConfigError::AmbientNotKept { capabilities: Capabilities::CHOWN })), "{err}");
    let last_cap: u32 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap").unwrap().trim().parse().unwrap();
    let past = Capabilities::from_number(last_cap + 1).unwrap();
    let err = Sandbox::builder().namespaces(Namespaces::USER).capabilities(past).build().unwrap_err();
    assert!(
        matches!(err, Error::Config(ConfigError::UnknownCapability { capabilities, last_cap: l }) if capabilities == past && l == last_cap),
        "{err}"
    );
}
