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
        assert_eq!(parse_release("6.2"), Some((6, 2)));
        assert_eq!(parse_release("6.10-rc1"), Some((6, 10)));
        assert_eq!(parse_release("4.19.0+"), Some((4, 19)));
        assert_eq!(parse_release("garbage"), None);
        assert_eq!(parse_release("6"), None);
        assert_eq!(parse_release("6.x"), None);
        assert_eq!(parse_release(""), None);
    }

    #[test]
    fn parsed_releases_order_by_number_not_as_text() {
        // The time namespace gate: "6.18" >= "6.2" is false as text, true as versions.
        let at_least = |release: &str| parse_release(release).unwrap() >= TIME_NAMESPACE_AT_EXEC;
        assert!(at_least("6.18.44-fc-v669"));
        assert!(at_least("6.2.0"));
        assert!(at_least("10.0"));
        assert!(!at_least("6.1.99-56-amd64"));
        assert!(!at_least("5.19.0"));
        assert!(parse_release("6.10") > parse_release("6.9"));
    }

    #[test]
    fn the_running_kernels_version_is_the_one_proc_shows() {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        // "6.18.44-fc-v669": the leading digits of the first two dot-separated fields.
        let mut fields =
            release.trim().split('.').map(|f| f.chars().take_while(char::is_ascii_digit).collect::<String>());
        let major: u32 = fields.next().unwrap().parse().unwrap();
        let minor: u32 = fields.next().unwrap().parse().unwrap();
        assert_eq!(version(), Some((major, minor)), "{release}");
    }
}
