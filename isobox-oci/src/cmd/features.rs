//! `features`: what this runtime supports, as runtime-spec's features.md lays it out
//! (containerd 1.7 and later ask).

use serde_json::json;

use crate::state::OCI_VERSION;

pub fn run() {
    let namespaces = ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"];
    // What `mounts` applies or takes as already true; data options (mode=, size=) aside.
    let options: Vec<&str> =
        ["bind", "rbind", "ro", "noexec"].into_iter().chain(crate::mounts::ALWAYS_OK.iter().copied()).collect();
    let caps: Vec<String> = isobox::Capabilities::all().iter_names().map(|(n, _)| format!("CAP_{n}")).collect();
    let out = json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": OCI_VERSION,
        "hooks": ["prestart", "createRuntime", "poststart", "poststop"],
        "mountOptions": options,
        "linux": {
            "namespaces": namespaces,
            "capabilities": caps,
            "cgroup": { "v1": true, "v2": true, "systemd": false, "systemdUser": false, "rdma": false },
            "seccomp": {
                "enabled": true,
                "actions": ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD",
                    "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"],
                "operators": ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
                    "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"],
                "archs": [if cfg!(target_arch = "aarch64") { "SCMP_ARCH_AARCH64" } else { "SCMP_ARCH_X86_64" }],
            },
            "apparmor": { "enabled": false },
            "selinux": { "enabled": false },
            "intelRdt": { "enabled": false },
            "mountExtensions": { "idmap": { "enabled": false } },
        },
        "annotations": {
            "org.isobox.runtime": "isobox-oci",
            "org.isobox.version": env!("CARGO_PKG_VERSION"),
        },
    });
    println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
}
