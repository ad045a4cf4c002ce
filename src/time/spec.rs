//! Clock offsets for a time namespace (**parent**: plain data, public).

/// Clock offsets for a time namespace: CLOCK_MONOTONIC and CLOCK_BOOTTIME inside read this
/// many nanoseconds more (or, negative, less) than outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TimeOffsets {
    /// Added to CLOCK_MONOTONIC inside, in nanoseconds.
    pub monotonic_ns: i64,
    /// Added to CLOCK_BOOTTIME inside, in nanoseconds.
    pub boottime_ns: i64,
}

impl TimeOffsets {
    /// Offsets for both clocks, in nanoseconds.
    #[must_use]
    pub const fn new(monotonic_ns: i64, boottime_ns: i64) -> TimeOffsets {
        TimeOffsets { monotonic_ns, boottime_ns }
    }
}
