//! CPU and memory-node lists as the kernel writes them: "0-3,8,10-11" (**parent**).

use std::collections::BTreeSet;
use std::fmt;

/// A set of CPU (or NUMA node) numbers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CpuList(pub(crate) BTreeSet<u32>);

impl CpuList {
    /// Parses "0-3,8"; `None` on anything malformed. Whitespace around it is ignored.
    #[must_use]
    pub fn parse(text: &str) -> Option<CpuList> {
        let mut set = BTreeSet::new();
        let text = text.trim();
        if text.is_empty() {
            return Some(CpuList(set));
        }
        for part in text.split(',') {
            let (lo, hi): (u32, u32) = match part.split_once('-') {
                Some((lo, hi)) => (lo.trim().parse().ok()?, hi.trim().parse().ok()?),
                None => {
                    let n = part.trim().parse().ok()?;
                    (n, n)
                }
            };
            if lo > hi || hi - lo > 65536 {
                return None;
            }
            set.extend(lo..=hi);
        }
        Some(CpuList(set))
    }

    /// Whether every number here is also in `other`.
    #[must_use]
    pub fn is_subset(&self, other: &CpuList) -> bool {
        self.0.is_subset(&other.0)
    }

    /// How many CPUs or nodes the list names.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the list names nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `n` is in the list.
    #[must_use]
    pub fn contains(&self, n: u32) -> bool {
        self.0.contains(&n)
    }
}

impl fmt::Display for CpuList {
    /// The kernel's canonical form: ranges joined by commas.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let mut iter = self.0.iter().copied().peekable();
        while let Some(start) = iter.next() {
            let mut end = start;
            while iter.peek() == Some(&(end + 1)) {
                end = iter.next().unwrap_or(end);
            }
            parts.push(if start == end { start.to_string() } else { format!("{start}-{end}") });
        }
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_the_kernel_format() {
        let list = CpuList::parse("0-2,5, 7-8\n").unwrap();
        assert_eq!(list.to_string(), "0-2,5,7-8");
        assert!(CpuList::parse("3-1").is_none());
        assert!(CpuList::parse("a").is_none());
        assert!(CpuList::parse("").unwrap().is_empty());
        assert!(CpuList::parse("1").unwrap().is_subset(&CpuList::parse("0-1").unwrap()));
    }
}
