//! The running kernel's version, for features that depend on it (**parent**, at `build()`).

/// (major, minor) of the running kernel, from uname(2).
pub(crate) fn version() -> Option<(u32, u32)> {
    let uts = nix::sys::utsname::uname().ok()?;
    parse_release(uts.release().to_str()?)
}

/// Parses "6.1.0-56-amd64" into (6, 1).
pub(crate) fn parse_release(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// A process enters its time namespace at exec only since Linux 6.2 ("fs/exec: switch timens
/// when a task gets a new mm"). Before, the program would run with the host's clocks and
/// fail to vfork, so a time namespace is refused there.
pub(crate) const TIME_NAMESPACE_AT_EXEC: (u32, u32) = (6, 2);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_parse_to_major_and_minor() {
        assert_eq!(parse_release("6.1.0-56-amd64"), Some((6, 1)));
        assert_eq!(parse_release("6.18.44-fc-v669"), Some((6, 18)));
        assert_eq!(parse_release("5.15"), Some((5, 15)));
        assert_eq!(parse_release("garbage"), None);
        assert!((6, 1) < TIME_NAMESPACE_AT_EXEC && (6, 18) >= TIME_NAMESPACE_AT_EXEC);
    }
}
