//! A failed capability step in the child, in words (**parent**): the capability it worked on
//! and a hint.

use nix::errno::Errno;

use super::plan::CapsPlan;
use super::spec::Capabilities;

/// The capability the bounding drop was working on at `index`.
pub(crate) fn dropped(plan: &CapsPlan, index: usize) -> Option<Capabilities> {
    plan.drop_bounding.get(index).copied().and_then(Capabilities::from_number)
}

/// The capability the ambient raise was working on at `index`.
pub(crate) fn raised(plan: &CapsPlan, index: usize) -> Option<Capabilities> {
    plan.ambient.get(index).copied().and_then(Capabilities::from_number)
}

/// Why the bounding drop failed.
pub(crate) fn bounding_hint(errno: Errno) -> Option<&'static str> {
    (errno == Errno::EPERM).then_some("dropping from the bounding set needs CAP_SETPCAP, which the caller lacks")
}

/// Why the capset failed.
pub(crate) fn capset_hint(errno: Errno) -> Option<&'static str> {
    (errno == Errno::EPERM).then_some(
        "without a user namespace only capabilities the caller holds can be kept; build() checked the thread \
         that built the sandbox, and the thread that spawned holds fewer",
    )
}

/// Why an ambient raise failed.
pub(crate) fn ambient_hint(errno: Errno) -> Option<&'static str> {
    (errno == Errno::EPERM)
        .then_some("the caller's securebits forbid ambient capabilities (SECBIT_NO_CAP_AMBIENT_RAISE)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caps::plan::prepare;
    use crate::caps::spec::CapsSpec;

    #[test]
    fn the_failed_index_names_its_capability() {
        let spec = CapsSpec { keep: Capabilities::CHOWN | Capabilities::KILL, ambient: Capabilities::KILL };
        let plan = prepare(&spec, 42, None).unwrap();
        assert_eq!(dropped(&plan, 0), Some(Capabilities::DAC_OVERRIDE));
        assert_eq!(dropped(&plan, 39).map(|c| c.to_string()).as_deref(), Some("capability 41"));
        assert_eq!(dropped(&plan, 99), None);
        assert_eq!(raised(&plan, 0), Some(Capabilities::KILL));
        assert!(bounding_hint(Errno::EPERM).is_some() && bounding_hint(Errno::EINVAL).is_none());
    }
}
