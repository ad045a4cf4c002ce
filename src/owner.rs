//! Which process left something behind (**parent**): a process is its pid and start time (in
//! clock ticks since boot, `/proc/<pid>/stat` field 22), so that a pid reused by another process
//! does not pass for the one that made a spawn directory, a veth or a NAT rule. The sweeps of
//! dead owners' leftovers (`mount::overlay::sweep`, `net::mode::sweep`) judge by it.

use std::sync::OnceLock;

/// Process `pid`'s start time; `Ok(None)` if there is no such process, `Err` if it cannot be
/// read.
pub(crate) fn start_time(pid: u32) -> Result<Option<u64>, ()> {
    let stat = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(_) => return Err(()),
    };
    // After the command's closing parenthesis come the fields from the third (the state) on.
    let rest = stat.rsplit_once(')').ok_or(())?.1;
    rest.split_whitespace().nth(22 - 3).and_then(|f| f.parse().ok()).map(Some).ok_or(())
}

/// This process's start time (`None` without a readable /proc).
pub(crate) fn own_start_time() -> Option<u64> {
    static START: OnceLock<Option<u64>> = OnceLock::new();
    *START.get_or_init(|| start_time(std::process::id()).ok().flatten())
}

/// Whether no process has `pid` with start time `start`: none has `pid`, or the one that has
/// it started at another time. A process that cannot be read counts as there.
pub(crate) fn is_gone(pid: u32, start: u64) -> bool {
    match start_time(pid) {
        Ok(None) => true,
        Ok(Some(now)) => now != start,
        Err(()) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_process_is_its_pid_and_start_time() {
        let start = start_time(1).unwrap().expect("pid 1 runs");
        assert!(!is_gone(1, start));
        assert!(is_gone(1, start + 1), "another start time is another process");
        assert_eq!(start_time(u32::MAX >> 1), Ok(None));
        assert_eq!(own_start_time(), start_time(std::process::id()).unwrap());
    }
}
