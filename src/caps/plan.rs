//! The capability plan (**parent**, at `build()`): which capabilities leave the bounding set,
//! the capset words and the ambient list, checked against the kernel and the caller.
//!
//! In a user namespace the child starts with every capability there (and a full bounding
//! set), so it can drop what is not kept. Without one it holds the caller's capabilities: it
//! can keep only those, and it can drop from the bounding set only if the caller holds
//! CAP_SETPCAP. A caller without it (an ordinary user) holds no capabilities at all, and its
//! bounding set only limits what exec may grant through setuid-root programs and file
//! capabilities; no_new_privs (on by default) makes those grant nothing, and with it off they
//! grant what they grant the caller outside the sandbox. So that one case leaves the bounding
//! set as it is, rather than fail every spawn with EPERM.

use std::io;
use std::path::Path;

use super::spec::{Capabilities, CapsSpec};
use crate::error::ConfigError;
use crate::namespaces::Namespaces;
use crate::sys::caps::CapData;

const LAST_CAP: &str = "/proc/sys/kernel/cap_last_cap";
const THREAD_STATUS: &str = "/proc/thread-self/status";

/// What the child does with capabilities, decided at `build()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CapsPlan {
    /// The set kept: effective and permitted after the uid switch.
    pub keep: Capabilities,
    /// Numbers dropped from the bounding set, ascending: every one up to the kernel's last
    /// that is not kept. Empty where the caller cannot drop them (see the module doc).
    pub drop_bounding: Vec<u32>,
    /// The capset words: effective = permitted = kept, inheritable = ambient.
    pub capset: [CapData; 2],
    /// Numbers raised into the ambient set, ascending.
    pub ambient: Vec<u32>,
}

impl CapsPlan {
    /// PR_SET_KEEPCAPS is needed before a switch to a non-zero uid, or the switch clears the
    /// permitted set.
    pub fn keeps_any(&self) -> bool {
        !self.keep.is_empty()
    }
}

/// The capabilities the calling thread holds (its /proc status), which the child starts
/// with when there is no user namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Held {
    pub effective: Capabilities,
    pub permitted: Capabilities,
    pub bounding: Capabilities,
}

/// Reads the kernel's last capability and, without a user namespace, the caller's
/// capabilities, and compiles the plan.
pub(crate) fn compile(spec: &CapsSpec, ns: Namespaces) -> Result<CapsPlan, ConfigError> {
    let last_cap = read(LAST_CAP, "the kernel's last capability", parse_last_cap)?;
    let held = if ns.contains(Namespaces::USER) {
        None
    } else {
        Some(read(THREAD_STATUS, "the calling thread's capabilities", parse_status)?)
    };
    let plan = prepare(spec, last_cap, held)?;
    // A root caller that cannot drop the bounding set would leave a uid-0 program able to get
    // it all back at exec once no_new_privs is off: refuse rather than keep it silently.
    let bounding_kept = held.is_some_and(|h| plan.drop_bounding.is_empty() && !spec.keep.contains(h.bounding));
    if bounding_kept && nix::unistd::geteuid().is_root() {
        return Err(ConfigError::BoundingSetNotDroppable);
    }
    Ok(plan)
}

/// Decides the plan for the kernel's `last_cap` and, without a user namespace, what the
/// caller `held` (`None` in a user namespace).
pub(crate) fn prepare(spec: &CapsSpec, last_cap: u32, held: Option<Held>) -> Result<CapsPlan, ConfigError> {
    let CapsSpec { keep, ambient } = *spec;
    if !keep.contains(ambient) {
        return Err(ConfigError::AmbientNotKept { capabilities: ambient - keep });
    }
    let unknown = Capabilities::from_bits_retain(keep.bits() & !known(last_cap));
    if !unknown.is_empty() {
        return Err(ConfigError::UnknownCapability { capabilities: unknown, last_cap });
    }
    if let Some(held) = held {
        let missing = keep - (held.permitted & held.bounding);
        if !missing.is_empty() {
            return Err(ConfigError::CapabilityNotHeld { capabilities: missing });
        }
    }
    let can_drop = held.map_or(true, |h| h.effective.contains(Capabilities::SETPCAP));
    let drop_bounding = if can_drop { (0..=last_cap).filter(|n| !has(keep, *n)).collect() } else { Vec::new() };
    Ok(CapsPlan { keep, drop_bounding, capset: words(keep, ambient), ambient: ambient.numbers().collect() })
}

/// Every capability number up to `last_cap`, as a mask.
fn known(last_cap: u32) -> u64 {
    u64::MAX >> (63 - last_cap.min(63))
}

fn has(set: Capabilities, number: u32) -> bool {
    number < u64::BITS && set.bits() & (1 << number) != 0
}

/// The two capset words: effective = permitted = `keep`; inheritable = `ambient`, which the
/// ambient set needs, and no more (a file's inheritable capabilities then add nothing).
pub(crate) fn words(keep: Capabilities, ambient: Capabilities) -> [CapData; 2] {
    let word = |shift: u32| {
        let (k, a) = ((keep.bits() >> shift) as u32, (ambient.bits() >> shift) as u32);
        CapData { effective: k, permitted: k, inheritable: a }
    };
    [word(0), word(32)]
}

fn read<T>(file: &'static str, what: &'static str, parse: fn(&str) -> Option<T>) -> Result<T, ConfigError> {
    let fail = |source| ConfigError::Path { what, path: Path::new(file).to_path_buf(), source };
    let text = std::fs::read_to_string(file).map_err(fail)?;
    parse(&text).ok_or_else(|| fail(io::Error::new(io::ErrorKind::InvalidData, "unexpected contents")))
}

pub(crate) fn parse_last_cap(text: &str) -> Option<u32> {
    text.trim().parse().ok().filter(|n| *n < u64::BITS)
}

/// CapEff, CapPrm and CapBnd of a /proc/PID/status text.
pub(crate) fn parse_status(text: &str) -> Option<Held> {
    let field = |name: &str| {
        let line = text.lines().find_map(|l| l.strip_prefix(name))?;
        u64::from_str_radix(line.trim(), 16).ok().map(Capabilities::from_bits_retain)
    };
    Some(Held { effective: field("CapEff:")?, permitted: field("CapPrm:")?, bounding: field("CapBnd:")? })
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
