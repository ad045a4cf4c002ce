//! Why `build()` refuses a Landlock ruleset (public; made by the **parent** at `build()`).

use std::path::PathBuf;

use nix::errno::Errno;

use super::spec::FsAccess;
use super::NEWEST_ABI;
#[cfg(test)]
use super::TCP_ABI;
use crate::hint;

/// A Landlock ruleset that cannot be enforced as asked on this kernel, found at `build()`.
/// Rolled up as `ConfigError::Landlock`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LandlockError {
    /// The kernel has no usable Landlock (ENOSYS: not built in; EOPNOTSUPP: not enabled).
    #[error("Landlock is not available on this kernel: {errno}{}", hint::suffix(*hint))]
    Unsupported {
        /// What asking the kernel's Landlock ABI returned.
        errno: Errno,
        /// What to do about it.
        hint: Option<&'static str>,
    },
    /// `no_new_privs(false)`: Landlock needs no_new_privs (or CAP_SYS_ADMIN) to restrict.
    #[error("Landlock needs no_new_privs or CAP_SYS_ADMIN; leave SandboxBuilder::no_new_privs on, or keep Capabilities::SYS_ADMIN")]
    NeedsNoNewPrivs,
    /// `Landlock::require_abi` asked for more than the ruleset can use here.
    #[error("Landlock ABI {required} is required, but {}", abi_text(*kernel))]
    RequiredAbi {
        /// The ABI asked for.
        required: u32,
        /// The kernel's Landlock ABI.
        kernel: u32,
    },
    /// A rule allows rights the kernel's ABI does not know.
    #[error("the Landlock rule for {path:?} allows {} (Landlock ABI {needs}), but {}", names(*beyond), abi_text(*kernel))]
    RuleNeedsAbi {
        /// The rule's path.
        path: PathBuf,
        /// The rights the kernel does not know.
        beyond: FsAccess,
        /// The ABI that knows them.
        needs: u32,
        /// The kernel's Landlock ABI.
        kernel: u32,
    },
    /// TCP rules or scopes on a kernel whose ABI lacks them.
    #[error("Landlock {feature} need ABI {needs}, but {}", abi_text(*kernel))]
    FeatureNeedsAbi {
        /// `TCP rules` or `scopes`.
        feature: &'static str,
        /// The ABI that has them.
        needs: u32,
        /// The kernel's Landlock ABI.
        kernel: u32,
    },
    /// A rule that allows nothing (the kernel refuses it).
    #[error("the Landlock rule for {path:?} allows no right")]
    EmptyRule {
        /// The rule's path.
        path: PathBuf,
    },
    /// More path rules than a failure record can name.
    #[error("{count} Landlock path rules; at most {max} are supported")]
    TooManyRules {
        /// How many were given.
        count: usize,
        /// The most there may be.
        max: usize,
    },
}

/// "this kernel has Landlock ABI 3", saying so when isobox uses less than a newer kernel has.
fn abi_text(kernel: u32) -> String {
    if kernel > NEWEST_ABI {
        format!("this kernel has Landlock ABI {kernel}, of which isobox uses ABI {NEWEST_ABI}")
    } else {
        format!("this kernel has Landlock ABI {kernel}")
    }
}

/// Why the kernel has no usable Landlock.
pub(crate) fn unsupported_hint(errno: Errno) -> Option<&'static str> {
    match errno {
        Errno::EOPNOTSUPP => Some(
            "Landlock is built into this kernel but not enabled: add landlock to the lsm= boot parameter \
             (e.g. lsm=landlock,lockdown,yama,apparmor,bpf; the current list is in /sys/kernel/security/lsm)",
        ),
        Errno::ENOSYS => Some(
            "this kernel has no Landlock: it needs Linux 5.13+ built with CONFIG_SECURITY_LANDLOCK=y and landlock \
             in the lsm= boot parameter (or a seccomp filter around this process refuses its system calls)",
        ),
        _ => None,
    }
}

/// "REFER | TRUNCATE".
pub(crate) fn names(access: FsAccess) -> String {
    access.iter_names().map(|(name, _)| name).collect::<Vec<_>>().join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_needs_which_abi_and_the_kernels() {
        let e = LandlockError::RuleNeedsAbi {
            path: "/dev".into(),
            beyond: FsAccess::IOCTL_DEV | FsAccess::TRUNCATE,
            needs: 5,
            kernel: 2,
        };
        assert_eq!(
            e.to_string(),
            "the Landlock rule for \"/dev\" allows TRUNCATE | IOCTL_DEV (Landlock ABI 5), but this kernel has Landlock ABI 2"
        );
        let e = LandlockError::RequiredAbi { required: 9, kernel: NEWEST_ABI + 1 };
        let text = e.to_string();
        assert!(text.starts_with("Landlock ABI 9 is required, but this kernel has Landlock ABI"), "{text}");
        assert!(text.ends_with(&format!("of which isobox uses ABI {NEWEST_ABI}")), "{text}");
        let e = LandlockError::FeatureNeedsAbi { feature: "TCP rules", needs: TCP_ABI, kernel: 3 };
        assert_eq!(e.to_string(), "Landlock TCP rules need ABI 4, but this kernel has Landlock ABI 3");
    }

    #[test]
    fn a_kernel_without_landlock_is_told_what_to_change() {
        assert!(unsupported_hint(Errno::EOPNOTSUPP).unwrap().contains("lsm="));
        assert!(unsupported_hint(Errno::ENOSYS).unwrap().contains("CONFIG_SECURITY_LANDLOCK"));
        assert_eq!(unsupported_hint(Errno::EIO), None);
    }
}
