//! A failed time namespace step in the child, in words (**parent**).

use nix::errno::Errno;

/// Why unsharing the time namespace or writing its offsets failed.
pub(crate) fn hint(errno: Errno) -> Option<&'static str> {
    match errno {
        Errno::EINVAL => Some("time namespaces need Linux 6.2 or later (CONFIG_TIME_NS)"),
        Errno::EPERM | Errno::EACCES => Some("time offsets need CAP_SYS_TIME in the sandbox's user namespace"),
        _ => None,
    }
}
