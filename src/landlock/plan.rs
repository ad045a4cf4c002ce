//! The Landlock ruleset at `build()` (**parent**): the kernel's ABI is asked once, the rules
//! are checked against it, and every struct the child hands the kernel is computed here. The
//! ruleset restricts every filesystem right the ABI knows; TCP and scopes when asked for.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;

use super::error::{unsupported_hint, LandlockError};
use super::spec::{FsAccess, Landlock, PathRule, TcpRules};
use super::{NEWEST_ABI, SCOPE_ABI, TCP_ABI};
use crate::error::ConfigError;
use crate::sys::landlock::{self as sys, NetPortAttr, RulesetAttr, ACCESS_NET_BIND_TCP, ACCESS_NET_CONNECT_TCP};
use crate::validate;

/// What the child does for Landlock, the same in every spawn.
#[derive(Debug, Clone)]
pub(crate) struct LandlockPlan {
    /// The ABI the ruleset is made for: the kernel's, or [`NEWEST_ABI`] if that is newer.
    pub abi: u32,
    /// The handled rights and scopes, passed to landlock_create_ruleset.
    pub attr: RulesetAttr,
    /// Path rules in the order given; a failure's index names one.
    pub paths: Vec<PathRulePlan>,
    /// One rule per TCP port, sorted by port.
    pub ports: Vec<NetPortAttr>,
}

/// One path rule, ready for the child: it opens `path` and grants `access` if it is a
/// directory, `file_access` otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathRulePlan {
    pub path: CString,
    pub access: u64,
    pub file_access: u64,
}

/// The failure index that names the ruleset itself rather than a path rule.
pub(crate) const RULESET_INDEX: usize = u16::MAX as usize;

/// The plan for `spec`, asking the running kernel's ABI; `None` without Landlock.
pub(crate) fn compile(spec: Option<&Landlock>, no_new_privs: bool) -> Result<Option<LandlockPlan>, ConfigError> {
    let Some(spec) = spec else { return Ok(None) };
    compile_for(spec, no_new_privs, sys::abi_version()).map(Some)
}

/// The plan for `spec` on a kernel whose ABI query returned `kernel`.
pub(crate) fn compile_for(
    spec: &Landlock,
    no_new_privs: bool,
    kernel: Result<u32, Errno>,
) -> Result<LandlockPlan, ConfigError> {
    if !no_new_privs {
        return Err(LandlockError::NeedsNoNewPrivs.into());
    }
    let kernel = kernel.map_err(|errno| LandlockError::Unsupported { errno, hint: unsupported_hint(errno) })?;
    let abi = kernel.min(NEWEST_ABI);
    if let Some(required) = spec.required_abi.filter(|r| *r > abi) {
        return Err(LandlockError::RequiredAbi { required, kernel }.into());
    }
    if spec.rules.len() >= RULESET_INDEX {
        return Err(LandlockError::TooManyRules { count: spec.rules.len(), max: RULESET_INDEX - 1 }.into());
    }
    let paths = spec.rules.iter().map(|rule| path_rule(rule, abi, kernel)).collect::<Result<_, _>>()?;
    let (handled_access_net, ports) = match &spec.tcp {
        None => (0, Vec::new()),
        Some(tcp) => {
            need(TCP_ABI, "TCP rules", abi, kernel)?;
            (ACCESS_NET_BIND_TCP | ACCESS_NET_CONNECT_TCP, port_rules(tcp))
        }
    };
    if !spec.scopes.is_empty() {
        need(SCOPE_ABI, "scopes", abi, kernel)?;
    }
    let handled_access_fs = FsAccess::known_by(abi).bits();
    let attr = RulesetAttr { handled_access_fs, handled_access_net, scoped: spec.scopes.bits() };
    Ok(LandlockPlan { abi, attr, paths, ports })
}

fn need(needs: u32, feature: &'static str, abi: u32, kernel: u32) -> Result<(), LandlockError> {
    if abi >= needs {
        Ok(())
    } else {
        Err(LandlockError::FeatureNeedsAbi { feature, needs, kernel })
    }
}

/// Checks one rule against the ABI; a preset keeps what the ABI knows.
fn path_rule(rule: &PathRule, abi: u32, kernel: u32) -> Result<PathRulePlan, ConfigError> {
    const WHAT: &str = "Landlock rule path";
    validate::absolute(WHAT, &rule.path)?;
    let known = FsAccess::known_by(abi);
    let access = if rule.up_to_kernel { rule.access & known } else { rule.access };
    if access.is_empty() {
        return Err(LandlockError::EmptyRule { path: rule.path.clone() }.into());
    }
    if !known.contains(access) {
        let beyond = access - known;
        return Err(LandlockError::RuleNeedsAbi { path: rule.path.clone(), beyond, needs: beyond.abi(), kernel }.into());
    }
    let path =
        CString::new(rule.path.as_os_str().as_bytes()).map_err(|_| ConfigError::NulByte { what: WHAT.into() })?;
    Ok(PathRulePlan { path, access: access.bits(), file_access: (access & FsAccess::FILE).bits() })
}

/// One rule per port, with every right allowed on it.
fn port_rules(tcp: &TcpRules) -> Vec<NetPortAttr> {
    let mut ports = BTreeMap::<u16, u64>::new();
    for port in &tcp.bind {
        *ports.entry(*port).or_default() |= ACCESS_NET_BIND_TCP;
    }
    for port in &tcp.connect {
        *ports.entry(*port).or_default() |= ACCESS_NET_CONNECT_TCP;
    }
    ports.into_iter().map(|(port, allowed_access)| NetPortAttr { allowed_access, port: port.into() }).collect()
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
