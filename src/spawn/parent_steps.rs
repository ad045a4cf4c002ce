//! The parent's work while the child waits (**parent**, between clone and release): into the
//! cgroup first (unless the child was born there), so nothing of the sandbox ever runs outside
//! it; then the id maps; on v1 hosts, the cgroup while the child sets up.

use nix::unistd::Pid;

use crate::cgroup::spawn::CgroupSpawn;
use crate::error::Error;
use crate::sys::vmclone::ParentSteps;
use crate::user::plan::IdMaps;
use crate::user::write_maps::write_maps;

/// One spawn's parent steps.
pub(crate) struct ParentWork<'a, 'b> {
    pub cgroup: &'b mut CgroupSpawn<'a>,
    pub maps: Option<&'a IdMaps>,
    /// The child waits for a second go (the same flag its launch plan carries).
    pub second_release: bool,
}

impl ParentSteps for ParentWork<'_, '_> {
    type Error = Error;

    fn before_release(&mut self, pid: Pid, born_in_cgroup: bool) -> Result<(), Error> {
        self.cgroup.place(pid, born_in_cgroup)?;
        if let Some(maps) = self.maps {
            write_maps(maps, pid)?;
        }
        Ok(())
    }

    fn second_release(&self) -> bool {
        self.second_release
    }

    fn while_running(&mut self, _pid: Pid) -> Result<(), Error> {
        Ok(self.cgroup.create_late()?)
    }
}
