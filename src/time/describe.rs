//! A failed time namespace step in the child, in words (**parent**).

use nix::errno::Errno;

/// A kernel that refuses CLONE_NEWTIME (`kernel::TIME_NAMESPACE_AT_EXEC` is the gate).
pub(crate) const KERNEL_HINT: &str = "time namespaces need Linux 6.2 or later (CONFIG_TIME_NS)";

/// Why unsharing the time namespace or writing its offsets failed.
pub(crate) fn hint(errno: Errno) -> Option<&'static str> {
    match errno {
        Errno::EINVAL => Some(KERNEL_HINT),
        Errno::EPERM | Errno::EACCES => Some("time offsets need CAP_SYS_TIME in the sandbox's user namespace"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hint_names_the_kernel_the_gate_needs() {
        let (major, minor) = crate::kernel::TIME_NAMESPACE_AT_EXEC;
        assert!(hint(Errno::EINVAL).unwrap().contains(&format!("Linux {major}.{minor}")));
        assert!(hint(Errno::EPERM).unwrap().contains("CAP_SYS_TIME"));
        assert_eq!(hint(Errno::EIO), None);
    }
}
