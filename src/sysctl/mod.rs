//! Kernel settings of the sandbox's own namespaces, `SandboxBuilder::sysctl` (an OCI
//! config's `linux.sysctl`).
//!
//! - plan: [`compile`] (**parent**, at `build()`): only the settings the kernel keeps per
//!   network namespace (`net.*`, with a network namespace of the sandbox's) or per IPC
//!   namespace (System V IPC's `kernel.msg*`, `kernel.sem`, `kernel.shm*`, and
//!   `fs.mqueue.*`, with `Namespaces::IPC`): anything else would change the host's.
//! - apply: [`apply`] (**child**): written through /proc/sys before the mounts (the files
//!   resolve to the writer's namespaces), then read back.
//! - describe: the failed setting is the record's index into the plan's list.

pub(crate) mod apply;

use std::ffi::CString;

use crate::error::ConfigError;
use crate::namespaces::Namespaces;

/// The settings, as the child writes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SysctlPlan {
    /// (key, `/proc/sys/...` path, value), in the order given.
    pub entries: Vec<(String, CString, CString)>,
}

/// The IPC namespace's settings.
const IPC_KEYS: &[&str] = &[
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// Checks each `(key, value)` and makes the paths. `own_net`: the sandbox has a network
/// namespace of its own or joined one (not the caller's).
pub(crate) fn compile(list: &[(String, String)], ns: Namespaces, own_net: bool) -> Result<SysctlPlan, ConfigError> {
    let mut entries = Vec::with_capacity(list.len());
    for (key, value) in list {
        let refuse = |why: &'static str| ConfigError::Sysctl { key: key.clone(), why };
        let well_formed = !key.is_empty()
            && key.split('.').all(|part| {
                !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            });
        if !well_formed {
            return Err(refuse("not a sysctl name (dot-separated letters, digits, '_' and '-')"));
        }
        if key.starts_with("net.") {
            if !own_net {
                return Err(refuse("a network setting needs a network namespace of the sandbox's (Namespaces::NET or Network::Join): it would change the host's"));
            }
        } else if IPC_KEYS.contains(&key.as_str()) || key.starts_with("fs.mqueue.") {
            if !ns.contains(Namespaces::IPC) {
                return Err(refuse("an IPC setting needs Namespaces::IPC: it would change the host's"));
            }
        } else {
            return Err(refuse("not a setting of the sandbox's own namespaces (net.*, System V IPC's kernel.* and fs.mqueue.*): it would change the host's"));
        }
        let value_ok = !value.is_empty() && value.len() < apply::VALUE_MAX && !value.contains(['\0', '\n']);
        if !value_ok {
            return Err(refuse("the value must be 1 to 255 bytes without NUL or newline"));
        }
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        let (path, value) = (CString::new(path).unwrap_or_default(), CString::new(value.as_str()).unwrap_or_default());
        entries.push((key.clone(), path, value));
    }
    Ok(SysctlPlan { entries })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(key: &str, ns: Namespaces, own_net: bool) -> Result<SysctlPlan, ConfigError> {
        compile(&[(key.to_string(), "1".to_string())], ns, own_net)
    }

    #[test]
    fn only_settings_of_the_sandboxs_own_namespaces_are_taken() {
        let plan = one("net.ipv4.ip_forward", Namespaces::NET, true).unwrap();
        assert_eq!(plan.entries[0].1.to_str().unwrap(), "/proc/sys/net/ipv4/ip_forward");
        assert!(one("kernel.shmmax", Namespaces::IPC, false).is_ok());
        assert!(one("fs.mqueue.msg_max", Namespaces::IPC, false).is_ok());
        for (key, ns, own_net) in [
            ("net.ipv4.ip_forward", Namespaces::empty(), false),
            ("kernel.shmmax", Namespaces::NET, true),
            ("kernel.hostname", Namespaces::UTS, true),
            ("vm.overcommit_memory", Namespaces::all(), true),
            ("net..x", Namespaces::NET, true),
            ("net.ipv4/../../x", Namespaces::NET, true),
            ("", Namespaces::NET, true),
        ] {
            assert!(matches!(one(key, ns, own_net), Err(ConfigError::Sysctl { .. })), "{key:?}");
        }
        let bad_value = compile(&[("net.ipv4.ip_forward".into(), "1\n2".into())], Namespaces::NET, true);
        assert!(bad_value.is_err());
    }
}
