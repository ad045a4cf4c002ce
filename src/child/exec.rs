//! Executing the program (**child**): each PATH candidate in turn, like execvp.
//! Async-signal-safe: no allocation.

use nix::errno::Errno;

use super::plan::ExecPlan;
use crate::sys::child as sys;

/// Tries each candidate path: a missing file moves on to the next, EACCES is remembered (and
/// reported if nothing better turns up), anything else stops. Returns only on failure: which
/// candidate, and the errno.
pub(crate) fn exec(p: &ExecPlan) -> (usize, Errno) {
    let mut not_found = (0, Errno::ENOENT);
    let mut denied = None;
    for (index, path) in p.candidates.iter().enumerate() {
        match sys::execve(path, &p.argv, &p.envp) {
            Errno::ENOENT | Errno::ENOTDIR => not_found = (index, Errno::ENOENT),
            Errno::EACCES => denied = denied.or(Some((index, Errno::EACCES))),
            errno => return (index, errno),
        }
    }
    denied.unwrap_or(not_found)
}
