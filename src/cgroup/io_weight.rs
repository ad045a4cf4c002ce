//! Which file carries an io weight on cgroup v1, and on what scale (**parent**).
//!
//! CFQ's `blkio.weight` (10–1000, default 500) went with CFQ in Linux 5.0; BFQ offers
//! `blkio.bfq.weight` (1–1000, default 100) once its module is loaded. Neither is on a
//! hierarchy's root, so the sandbox's own directory is probed, once per process while the
//! answer is yes (a kernel does not drop BFQ's files, but may load them later).

use std::path::Path;
use std::sync::OnceLock;

/// The v1 io weight file the kernel has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum V1Weight {
    /// `blkio.bfq.weight`.
    Bfq,
    /// `blkio.weight`.
    Cfq,
}

static FOUND: OnceLock<V1Weight> = OnceLock::new();

impl V1Weight {
    /// The file in `dir` (a non-root v1 blkio cgroup), BFQ's first; `None` without either.
    pub fn probe(dir: &Path) -> Option<V1Weight> {
        [V1Weight::Bfq, V1Weight::Cfq].into_iter().find(|w| dir.join(w.file()).exists())
    }

    /// [`V1Weight::probe`], asked once per process once found.
    pub fn probed(dir: &Path) -> Option<V1Weight> {
        if let Some(found) = FOUND.get() {
            return Some(*found);
        }
        let found = V1Weight::probe(dir)?;
        Some(*FOUND.get_or_init(|| found))
    }

    pub fn file(self) -> &'static str {
        match self {
            V1Weight::Bfq => "blkio.bfq.weight",
            V1Weight::Cfq => "blkio.weight",
        }
    }

    /// A weight on v2's scale (1–10000, default 100) on this file's, each default mapped to
    /// the other as systemd converts them: ×5 clamped to 10–1000 for CFQ; for BFQ the same
    /// up to 100, then 100–10000 spread over 100–1000.
    pub fn value(self, weight: u32) -> u64 {
        let w = u64::from(weight);
        match self {
            V1Weight::Cfq => (w * 500 / 100).clamp(10, 1000),
            V1Weight::Bfq if w <= 100 => w.max(1),
            V1Weight::Bfq => (100 + (w - 100) * 900 / 9900).min(1000),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bfqs_file_is_chosen_where_it_is_else_cfqs_else_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(V1Weight::probe(dir.path()), None);
        std::fs::write(dir.path().join("blkio.weight"), "500\n").unwrap();
        assert_eq!(V1Weight::probe(dir.path()), Some(V1Weight::Cfq));
        std::fs::write(dir.path().join("blkio.bfq.weight"), "100\n").unwrap();
        assert_eq!(V1Weight::probe(dir.path()), Some(V1Weight::Bfq));
    }

    #[test]
    fn each_scale_keeps_the_default_and_the_ends() {
        let bfq = |w| V1Weight::Bfq.value(w);
        assert_eq!((bfq(1), bfq(100), bfq(200), bfq(10_000)), (1, 100, 109, 1000));
        let cfq = |w| V1Weight::Cfq.value(w);
        assert_eq!((cfq(1), cfq(100), cfq(150), cfq(10_000)), (10, 500, 750, 1000));
    }
}
