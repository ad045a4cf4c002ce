//! A `Child` left running without its handle (**parent**): a detached held sandbox
//! (`held`), which outlives this process.

use std::path::PathBuf;

use super::Child;

impl Child {
    /// Forgets the process and its cgroup: neither killed nor removed by this `Child`. `Err`
    /// names a part that ends with this process (then the sandbox is killed, as on drop).
    /// Also returns the parent directories this process made for the cgroup, topmost first.
    pub(crate) fn leave_running(mut self) -> Result<(u32, Vec<PathBuf>, Vec<PathBuf>), &'static str> {
        if let Some(what) = self.tied_part() {
            return Err(what);
        }
        let (dirs, parents) = match self.cgroup.take() {
            Some(cgroup) => {
                let dirs = cgroup.dirs.iter().map(|d| d.path.clone()).collect();
                let parents = cgroup.parents.made();
                std::mem::forget(cgroup); // its drop would kill and remove
                (dirs, parents)
            }
            None => (Vec::new(), Vec::new()),
        };
        self.left_running = true;
        Ok((self.pid.as_raw() as u32, dirs, parents))
    }

    /// What of the sandbox this process runs or owns.
    fn tied_part(&self) -> Option<&'static str> {
        if self.user_net.is_some() {
            return Some("a user-mode network (its helper is this process's child)");
        }
        if self.veth.is_some() {
            return Some("a veth network (its host end, routes and NAT rule are this process's)");
        }
        if self.notifier.is_some() {
            return Some("seccomp notify rules (this process answers them)");
        }
        if self.upper.as_ref().is_some_and(|u| !u.kept()) {
            return Some("an overlay upper directory that is not kept (this process removes it)");
        }
        if self.holder.is_some() || self.after_reap.is_some() {
            return Some("a pool's holder");
        }
        if self.stdin.is_some() || self.stdout.is_some() || self.stderr.is_some() {
            return Some("piped stdio (this process holds the other ends)");
        }
        None
    }
}
