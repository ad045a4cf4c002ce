//! The time namespace at `build()` (**parent**): the kernel must switch namespaces at exec
//! (6.2), and the offsets become the text the child writes.

use std::ffi::CString;

use super::spec::TimeOffsets;
use crate::error::ConfigError;
use crate::kernel;
use crate::namespaces::Namespaces;
use crate::validate;

/// What the child does for the time namespace.
#[derive(Debug, Clone, Default)]
pub(crate) struct TimePlan {
    /// CLONE_NEWTIME or 0, unshared right after release.
    pub unshare: i32,
    /// The text written to /proc/self/timens_offsets.
    pub offsets: Option<CString>,
}

/// Checks that offsets come with a time namespace, and a time namespace with a kernel that
/// puts the program in it at exec.
pub(crate) fn compile(offsets: Option<TimeOffsets>, ns: Namespaces) -> Result<TimePlan, ConfigError> {
    if offsets.is_some() {
        validate::need(ns, Namespaces::TIME, "time offsets")?;
    }
    if ns.contains(Namespaces::TIME) {
        validate::kernel_at_least("a time namespace", kernel::TIME_NAMESPACE_AT_EXEC, kernel::version())?;
    }
    Ok(TimePlan { unshare: ns.time_flag(), offsets: offsets.map(offsets_text) })
}

/// The timens_offsets text; the kernel wants non-negative nanoseconds below one second.
fn offsets_text(t: TimeOffsets) -> CString {
    let line =
        |clock: &str, ns: i64| format!("{clock} {} {}\n", ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000));
    let text = line("monotonic", t.monotonic_ns) + &line("boottime", t.boottime_ns);
    CString::new(text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_need_a_time_namespace_and_are_normalised() {
        let err = compile(Some(TimeOffsets::new(1, 0)), Namespaces::USER).unwrap_err();
        assert!(matches!(err, ConfigError::NeedsNamespace { namespace: Namespaces::TIME, .. }), "{err}");
        let text = offsets_text(TimeOffsets::new(-1_500_000_000, 86_400_000_000_000));
        assert_eq!(text.to_str().unwrap(), "monotonic -2 500000000\nboottime 86400 0\n");
    }
}
