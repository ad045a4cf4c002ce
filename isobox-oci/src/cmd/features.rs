//! `features`: what this runtime supports, as runtime-spec's features.md lays it out
//! (containerd 1.7 and later ask).

use serde_json::json;

use crate::state::OCI_VERSION;

pub fn run() {
    let namespaces = ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"];
    let options = [
        "bind",
        "rbind",
        "ro",
        "rw",
        "nosuid",
        "nodev",
        "noexec",
        "relatime",
        "norelatime",
        "noatime",
        "strictatime",
        "nodiratime",
        "private",
        "rprivate",
    ];
    let caps: Vec<String> = isobox::Capabilities::all().iter_names().map(|(n, _)| format!("CAP_{n}")).collect();
    let out = json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": OCI_VERSION,
        "hooks": [],
        "mountOptions": options,
        "linux": {
            "namespaces": namespaces,
            "capabilities": caps,
            "cgroup": { "v1": true, "v2": true, "systemd": false, "systemdUser": false, "rdma": false },
            "seccomp": { "enabled": false },
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
