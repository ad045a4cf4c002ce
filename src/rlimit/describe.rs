//! A failed rlimit in the child, in words (**parent**).

use nix::errno::Errno;

/// Why setting a limit failed, where the host is the likely cause.
pub(crate) fn hint(errno: Errno) -> Option<&'static str> {
    (errno == Errno::EPERM).then_some("raising a hard limit needs CAP_SYS_RESOURCE on the host")
}
