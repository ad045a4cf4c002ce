//! Writing one cgroup file and reading back what the kernel applied (**parent**): a limit
//! that was asked for is enforced, or the spawn fails.

use std::io;
use std::path::{Path, PathBuf};

use super::cpulist::CpuList;
use super::fs::{read_small, write_file};

/// What reading a file back must show for the write to count as applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expect {
    /// The same text, give or take surrounding whitespace.
    Exact(String),
    /// A byte count the kernel keeps in pages: the value rounded down to the page size.
    Bytes(u64),
    /// The same set, however the kernel prints it.
    List(CpuList),
    /// The device's line holds these `key=value` pairs (v2 io.max) or this value (v1 throttle).
    DeviceLine { device: (u32, u32), fields: Vec<String> },
}

/// One file write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileWrite {
    pub file: &'static str,
    pub value: String,
    pub expect: Expect,
    /// The file read back to check `expect`: usually `file` itself.
    pub read_from: &'static str,
}

/// What went wrong writing one file.
#[derive(Debug)]
pub(crate) enum WriteFailure {
    Write(io::Error),
    /// Written, but reading back shows something else.
    ReadBack(String),
    /// Written, but the file to check could not be read.
    Read(io::Error),
}

/// Writes `w.value` to `dir/w.file` in a single write, then reads `dir/w.read_from` and checks
/// it. The path returned with a failure is the file that failed.
pub(crate) fn write_checked(dir: &Path, w: &FileWrite) -> Result<(), (PathBuf, WriteFailure)> {
    let path = dir.join(w.file);
    write_file(&path, &w.value).map_err(|e| (path, WriteFailure::Write(e)))?;
    let read_path = dir.join(w.read_from);
    match read_small(&read_path) {
        Ok(text) if matches(&w.expect, &text) => Ok(()),
        Ok(text) => Err((read_path, WriteFailure::ReadBack(text.trim().to_string()))),
        Err(e) => Err((read_path, WriteFailure::Read(e))),
    }
}

/// Whether `readback` shows what `expect` asks for.
pub(crate) fn matches(expect: &Expect, readback: &str) -> bool {
    let text = readback.trim();
    match expect {
        Expect::Exact(value) => text == value,
        Expect::Bytes(n) => text.parse::<u64>().ok() == Some(*n),
        Expect::List(list) => CpuList::parse(text).as_ref() == Some(list),
        Expect::DeviceLine { device: (maj, min), fields } => {
            let prefix = format!("{maj}:{min} ");
            text.lines().filter_map(|l| l.strip_prefix(&prefix)).any(|rest| {
                let have: Vec<&str> = rest.split_whitespace().collect();
                fields.iter().all(|f| have.contains(&f.as_str()))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::settings::Setting;

    #[test]
    fn write_checked_reports_a_readback_that_differs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pids.max"), "").unwrap();
        let w = |value: &str, expect: &str| FileWrite {
            file: "pids.max",
            value: value.into(),
            expect: Expect::Exact(expect.into()),
            read_from: "pids.max",
        };
        let ok = w("8", "8");
        write_checked(dir.path(), &ok).unwrap();
        let rounded = w("9", "10");
        match write_checked(dir.path(), &rounded) {
            Err((path, WriteFailure::ReadBack(read))) => {
                assert!(path.ends_with("pids.max"));
                assert_eq!(read, "9");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_v2_cpuset_is_checked_against_what_the_kernel_applies() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cpuset.cpus"), "").unwrap();
        let list = CpuList::parse("1").unwrap();
        let w = Setting::CpusetCpus(list).v2_writes(4096).remove(0);
        std::fs::write(dir.path().join("cpuset.cpus.effective"), "1\n").unwrap();
        write_checked(dir.path(), &w).unwrap();
        // The parent does not allow CPU 1: v2 keeps the written list but applies the parent's.
        std::fs::write(dir.path().join("cpuset.cpus.effective"), "0\n").unwrap();
        match write_checked(dir.path(), &w) {
            Err((path, WriteFailure::ReadBack(read))) => {
                assert!(path.ends_with("cpuset.cpus.effective"), "{path:?}");
                assert_eq!(read, "0");
            }
            other => panic!("{other:?}"),
        }
        std::fs::remove_file(dir.path().join("cpuset.cpus.effective")).unwrap();
        assert!(matches!(write_checked(dir.path(), &w), Err((_, WriteFailure::Read(_)))));
    }

    #[test]
    fn writing_a_missing_file_fails_instead_of_creating_it() {
        let dir = tempfile::tempdir().unwrap();
        let w = FileWrite {
            file: "memory.high",
            value: "1".into(),
            expect: Expect::Exact("1".into()),
            read_from: "memory.high",
        };
        assert!(
            matches!(write_checked(dir.path(), &w), Err((_, WriteFailure::Write(e))) if e.kind() == io::ErrorKind::NotFound)
        );
        assert!(!dir.path().join("memory.high").exists());
    }
}
