//! Checks shared by the wings at `build()` (**parent**): the namespace a setting needs,
//! absolute paths, NUL bytes, existing directories and the kernel version.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::ConfigError;
use crate::namespaces::Namespaces;

/// `what` needs namespace `want`.
pub(crate) fn need(ns: Namespaces, want: Namespaces, what: &'static str) -> Result<(), ConfigError> {
    if ns.contains(want) {
        Ok(())
    } else {
        Err(ConfigError::NeedsNamespace { what, namespace: want })
    }
}

/// Checks that `path` is absolute and free of NUL bytes.
pub(crate) fn absolute(what: &'static str, path: &Path) -> Result<(), ConfigError> {
    no_nul(what, path.as_os_str())?;
    if path.is_absolute() {
        Ok(())
    } else {
        Err(ConfigError::RelativePath { what, path: path.to_path_buf() })
    }
}

/// Checks that `s` holds no NUL byte (the kernel would read only up to it).
pub(crate) fn no_nul(what: &str, s: &OsStr) -> Result<(), ConfigError> {
    if s.as_bytes().contains(&0) {
        Err(ConfigError::NulByte { what: what.to_string() })
    } else {
        Ok(())
    }
}

/// Checks that `path` is absolute and an existing directory.
pub(crate) fn existing_dir(what: &'static str, path: &Path) -> Result<(), ConfigError> {
    absolute(what, path)?;
    let meta = std::fs::metadata(path).map_err(|source| ConfigError::Path { what, path: path.into(), source })?;
    if meta.is_dir() {
        Ok(())
    } else {
        Err(ConfigError::NotADirectory { what, path: path.into() })
    }
}

/// Checks that the running kernel (`found`) is at least `needs` for `feature`.
pub(crate) fn kernel_at_least(
    feature: &'static str,
    needs: (u32, u32),
    found: Option<(u32, u32)>,
) -> Result<(), ConfigError> {
    match found {
        Some(v) if v >= needs => Ok(()),
        _ => Err(ConfigError::KernelTooOld { feature, needs, found }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_newer_than_the_kernel_are_refused() {
        assert!(kernel_at_least("x", (6, 2), Some((6, 18))).is_ok());
        let err = kernel_at_least("a time namespace", (6, 2), Some((6, 1))).unwrap_err();
        assert_eq!(err.to_string(), "a time namespace needs Linux 6.2 or later; this kernel is 6.1");
        assert!(kernel_at_least("x", (6, 2), None).is_err());
    }

    #[test]
    fn a_missing_namespace_is_named() {
        let err = need(Namespaces::USER, Namespaces::UTS, "hostname").unwrap_err();
        assert!(matches!(err, ConfigError::NeedsNamespace { namespace: Namespaces::UTS, .. }), "{err}");
        assert_eq!(err.to_string(), "hostname needs Namespaces::UTS");
    }
}
