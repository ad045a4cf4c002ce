//! The parent's work while the child waits (**parent**, between clone and release): into the
//! cgroup first (unless the child was born there), so nothing of the sandbox ever runs outside
//! it; then the id maps; then a veth pair (`net::mode::veth`); on v1 hosts, the cgroup while the child sets up; with seccomp notify
//! rules, the listener the child announces before exec.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::unistd::Pid;

use crate::cgroup::spawn::CgroupSpawn;
use crate::error::{Error, SpawnError};
use crate::net::mode::error::NetworkError;
use crate::net::mode::plan::VethPlan;
use crate::net::mode::veth::{self, HostVeth};
use crate::net::usermode::helper::UserNetProcess;
use crate::net::usermode::plan::UserNetPlan;
use crate::seccomp;
use crate::seccomp::handoff::Announcement;
use crate::sys::vmclone::ParentSteps;
use crate::user::plan::IdMaps;
use crate::user::write_maps::write_maps;

/// One spawn's parent steps.
pub(crate) struct ParentWork<'a, 'b> {
    pub cgroup: &'b mut CgroupSpawn<'a>,
    pub maps: Option<&'a IdMaps>,
    /// The child waits for a second go (the same flag its launch plan carries).
    pub second_release: bool,
    /// The child hands a seccomp listener over before exec (its launch plan's `hands_over`).
    pub hands_over: bool,
    /// The listener, once taken.
    pub listener: Option<OwnedFd>,
    /// The caller is not root (see `take_handoff`).
    pub unprivileged: bool,
    /// The veth pair to make (`Network::Veth`), after the id maps.
    pub veth: Option<&'a VethPlan>,
    /// The pair, once made: the spawn hands it to the `Child` (a failed one drops it).
    pub host_veth: Option<HostVeth>,
    /// The user-mode helper to start (`Network::UserMode`), after the id maps.
    pub user_net: Option<&'a UserNetPlan>,
    /// The helper, once its network is up: the spawn hands it to the `Child`.
    pub user_net_process: Option<UserNetProcess>,
}

impl ParentWork<'_, '_> {
    /// A copy of the listener from the process that holds it: the first process, or with an
    /// init the program, whose pidfd the first process keeps.
    fn take_from(first: BorrowedFd<'_>, a: Announcement) -> Result<OwnedFd, Errno> {
        match a.holder_pidfd {
            None => crate::sys::notify::pidfd_getfd(first, a.listener),
            Some(at) => {
                let program = crate::sys::notify::pidfd_getfd(first, at)?;
                crate::sys::notify::pidfd_getfd(program.as_fd(), a.listener)
            }
        }
    }
}

impl ParentSteps for ParentWork<'_, '_> {
    type Error = Error;

    fn before_release(&mut self, pid: Pid, born_in_cgroup: bool) -> Result<(), Error> {
        self.cgroup.place(pid, born_in_cgroup)?;
        if let Some(maps) = self.maps {
            write_maps(maps, pid)?;
        }
        if let Some(plan) = self.veth {
            self.host_veth = Some(veth::set_up(plan, pid)?);
        }
        if let Some(plan) = self.user_net {
            let started = crate::net::usermode::start::start(plan, pid.as_raw() as u32);
            self.user_net_process = Some(started.map_err(NetworkError::UserMode)?);
        }
        Ok(())
    }

    fn second_release(&self) -> bool {
        self.second_release
    }

    fn while_running(&mut self, _pid: Pid) -> Result<(), Error> {
        Ok(self.cgroup.create_late()?)
    }

    fn handoff_len(&self) -> usize {
        if self.hands_over {
            seccomp::handoff::MESSAGE_LEN
        } else {
            0
        }
    }

    fn take_handoff(&mut self, pidfd: Option<BorrowedFd<'_>>, message: &[u8]) -> Result<bool, Error> {
        let Some(announced) = seccomp::handoff::decode(message) else {
            return Ok(false);
        };
        let fd = announced.listener;
        // pidfd_getfd asks for ptrace rights, which an unprivileged caller has only while the
        // memory it shares with the child is dumpable; a uid switch inside reset that. The
        // spawn's DumpableGuard puts the caller's own flag back once the child has exec'd.
        if self.unprivileged {
            super::dumpable::make_dumpable_now();
        }
        let taken = pidfd.map_or(Err(Errno::ENOSYS), |pidfd| Self::take_from(pidfd, announced));
        let hint = |errno| seccomp::describe::take_listener_hint(errno);
        let listener = taken.map_err(|errno| SpawnError::TakeListener { fd, errno, hint: hint(errno) })?;
        self.listener = Some(listener);
        Ok(true)
    }
}
