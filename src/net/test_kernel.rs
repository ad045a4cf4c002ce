//! For the network unit tests: what to do when the kernel lacks a driver a test needs.

/// A printed skip for `why`, or a panic under `ISOBOX_REQUIRE_NET_KERNEL=1`, which CI's VM sets
/// once it has loaded the network modules: there a missing driver is a bug of the set-up.
pub(crate) fn lacks(why: &str) {
    if required() {
        panic!("ISOBOX_REQUIRE_NET_KERNEL=1, but the kernel lacks what this test needs: {why}");
    }
    eprintln!("skipped: {why}");
}

/// Whether this run says the kernel has every network driver the tests use, matchall
/// included (`ISOBOX_REQUIRE_NET_KERNEL=1`).
pub(crate) fn required() -> bool {
    std::env::var("ISOBOX_REQUIRE_NET_KERNEL").as_deref() == Ok("1")
}
