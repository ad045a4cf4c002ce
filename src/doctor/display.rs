//! The report as a table a person reads (**parent**): item | state | detail | fix, long cells
//! wrapped at word boundaries.

use std::fmt::{self, Display, Formatter};

use super::report::{Check, CheckState, Detail, DoctorReport, HelperPrivilege, HelperRun, Knob};

/// Column widths: item, state, detail (fix takes the rest of a ~130-column line).
const WIDTHS: [usize; 4] = [26, 9, 44, 46];

impl Check {
    /// The item's name in the table.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Check::Kernel => "kernel",
            Check::Clone3 => "clone3",
            Check::CloneIntoCgroup => "CLONE_INTO_CGROUP",
            Check::Pidfd => "pidfd",
            Check::CloseRange => "close_range",
            Check::MountSetattr => "mount_setattr",
            Check::Openat2 => "openat2",
            Check::MountApi => "new mount API",
            Check::TimeNamespace => "time namespace",
            Check::OverlayInUserNamespace => "overlayfs in a user ns",
            Check::Seccomp => "seccomp",
            Check::SeccompUserNotification => "seccomp user notification",
            Check::Landlock => "Landlock",
            Check::UserNamespaces => "user namespaces (caller)",
            Check::UnprivilegedUserNamespaces => "unprivileged user ns",
            Check::CgroupLayout => "cgroup layout",
            Check::CgroupControllers => "cgroup controllers",
            Check::CgroupDelegation => "cgroup delegation",
            Check::SubordinateUids => "subordinate uids",
            Check::SubordinateGids => "subordinate gids",
            Check::Newuidmap => "newuidmap",
            Check::Newgidmap => "newgidmap",
            Check::Pasta => "pasta",
            Check::Slirp4netns => "slirp4netns",
            Check::Tun => "/dev/net/tun",
            Check::UserModeNetworking => "user-mode networking",
        }
    }
}

impl Display for Check {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Display for CheckState {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CheckState::Works => "works",
            CheckState::Missing => "missing",
            CheckState::Forbidden => "forbidden",
            CheckState::NeedsSetup => "needs set-up",
            CheckState::Unknown => "unknown",
        })
    }
}

impl Display for Knob {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, "{} = {v}", self.name),
            None => write!(f, "{} absent", self.name),
        }
    }
}

impl Display for Detail {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Detail::Kernel { release, .. } => write!(f, "Linux {release}"),
            Detail::Syscall { call, errno: None } => write!(f, "{call}: ok"),
            Detail::Syscall { call, errno: Some(e) } => write!(f, "{call}: {e}"),
            Detail::InUserNamespaceOnly { call, errno } => {
                write!(f, "{call}: {errno} here, allowed in the sandbox's own user namespace")
            }
            Detail::Spawn { namespaces, error: None } => write!(f, "a spawn with {namespaces:?} works"),
            Detail::Spawn { namespaces, error: Some(e) } => write!(f, "a spawn with {namespaces:?}: {e}"),
            Detail::Knobs(knobs) => list(f, knobs.iter(), ", "),
            Detail::Unreadable { path, errno } => write!(f, "{}: {errno}", path.display()),
            Detail::Landlock { kernel: Err(e), .. } => write!(f, "landlock_create_ruleset: {e}"),
            Detail::Landlock { kernel: Ok(abi), used: Some(used) } => {
                write!(f, "kernel ABI {abi}, rulesets use {used}")
            }
            Detail::Landlock { kernel: Ok(abi), used: None } => write!(f, "kernel ABI {abi}; feature landlock off"),
            Detail::CgroupLayout { kind, unified, v1 } => {
                write!(f, "{kind:?}")?;
                if let Some(u) = unified {
                    write!(f, ", unified at {}", u.display())?;
                }
                if !v1.is_empty() {
                    write!(f, ", {} v1 hierarchies", v1.len())?;
                }
                Ok(())
            }
            Detail::Controllers { v1, v2, missing } => {
                write!(f, "v1: ")?;
                list(f, v1.iter(), " ")?;
                write!(f, "; v2: ")?;
                list(f, v2.iter(), " ")?;
                if !missing.is_empty() {
                    write!(f, "; missing: ")?;
                    list(f, missing.iter(), " ")?;
                }
                Ok(())
            }
            Detail::Delegation { dir, writable, subtree_control } => {
                match dir {
                    Some(d) => write!(f, "{} {}", d.display(), if *writable { "writable" } else { "not writable" })?,
                    None => write!(f, "no cgroup of this process found")?,
                }
                if !subtree_control.is_empty() {
                    write!(f, "; subtree_control: ")?;
                    list(f, subtree_control.iter(), " ")?;
                }
                Ok(())
            }
            Detail::SubordinateIds { file, errno: Some(e), .. } => write!(f, "{file}: {e}"),
            Detail::SubordinateIds { file, user, ranges, .. } if ranges.is_empty() => {
                write!(f, "no range for {user} in {file}")
            }
            Detail::SubordinateIds { file, user, ranges, .. } => {
                write!(f, "{user} in {file}: ")?;
                list(f, ranges.iter().map(|(start, count)| format!("{start}+{count}")), ", ")
            }
            Detail::IdMapHelper { path: None, .. } => write!(f, "not found in PATH"),
            Detail::IdMapHelper { path: Some(p), privilege } => write!(
                f,
                "{} ({})",
                p.display(),
                match privilege {
                    HelperPrivilege::Setuid => "setuid root",
                    HelperPrivilege::FileCapabilities => "file capabilities",
                    HelperPrivilege::None => "no setuid bit, no file capabilities",
                }
            ),
            Detail::UserNetHelper { run: HelperRun::Version(v), .. } => write!(f, "{v}"),
            Detail::UserNetHelper { run: HelperRun::Failed(e), .. } => write!(f, "{e}"),
            Detail::UserNetHelper { helper, run: HelperRun::TimedOut(t) } => {
                write!(f, "`{helper} --version` gave no answer in {} s", t.as_secs())
            }
            Detail::Device { path, errno: None } => {
                write!(f, "{path}: a character device this caller may read and write")
            }
            Detail::Device { path, errno: Some(e) } => write!(f, "{path}: {e}"),
            Detail::UserNet { helpers, tun } => {
                write!(f, "helpers that run: ")?;
                if helpers.is_empty() {
                    write!(f, "none")?;
                }
                list(f, helpers.iter(), ", ")?;
                write!(f, "; /dev/net/tun {}", if *tun { "usable" } else { "not usable" })
            }
        }
    }
}

fn list<T: Display>(f: &mut Formatter<'_>, items: impl Iterator<Item = T>, sep: &str) -> fmt::Result {
    for (i, item) in items.enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl Display for DoctorReport {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        row(f, ["item", "state", "detail", "fix"].map(String::from))?;
        let rule: Vec<String> = WIDTHS.iter().map(|w| "-".repeat(*w)).collect();
        writeln!(f, "{}", rule.join("-+-"))?;
        for finding in &self.findings {
            let fix = finding.fix.clone().unwrap_or_default();
            row(f, [finding.check.to_string(), finding.state.to_string(), finding.detail.to_string(), fix])?;
        }
        let problems = self.problems().count();
        write!(
            f,
            "{} checks in {:.0} ms, {problems} not working",
            self.findings.len(),
            self.elapsed.as_secs_f64() * 1e3
        )
    }
}

/// One row: each cell wrapped to its column, the row as tall as its tallest cell.
fn row(f: &mut Formatter<'_>, cells: [String; 4]) -> fmt::Result {
    let wrapped: Vec<Vec<String>> = cells.iter().zip(WIDTHS).map(|(c, w)| wrap(c, w)).collect();
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
    for line in 0..height {
        let parts: Vec<String> = wrapped
            .iter()
            .zip(WIDTHS)
            .map(|(cell, w)| format!("{:w$}", cell.get(line).map_or("", String::as_str)))
            .collect();
        writeln!(f, "{}", parts.join(" | ").trim_end())?;
    }
    Ok(())
}

/// `text` in lines of at most `width` characters, broken at spaces (a longer word is cut).
pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let last = lines.last_mut().expect("one line at least");
            let used = last.chars().count();
            let room = if used == 0 { width } else { width.saturating_sub(used + 1) };
            if word.len() <= room {
                if used > 0 {
                    last.push(' ');
                }
                last.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(String::new());
                continue;
            }
            last.extend(word.drain(..width));
            lines.push(String::new());
        }
    }
    if lines.len() > 1 && lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn cells_wrap_at_spaces_and_cut_long_words() {
        assert_eq!(wrap("", 10), vec![""]);
        assert_eq!(wrap("one two three", 7), vec!["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a /sys/fs/cgroup/unified b", 8), vec!["a", "/sys/fs/", "cgroup/u", "nified b"]);
        assert!(wrap("word ".repeat(40).as_str(), 12).iter().all(|l| l.chars().count() <= 12));
    }
}
