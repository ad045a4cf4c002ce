//! A `Child`'s veth pair (**parent**): its name, and its bandwidth limits' counters.

use super::Child;
use crate::error::Error;
use crate::net::bandwidth::stats::NetStats;
use crate::net::mode::error::NetworkError;
use crate::net::mode::veth::HostVeth;
use crate::net::usermode::helper::UserNetProcess;

impl Child {
    /// With its veth pair (`Network::Veth`).
    pub(crate) fn with_veth(mut self, veth: Option<HostVeth>) -> Child {
        self.veth = veth;
        self
    }

    /// With its user-mode helper (`Network::UserMode`).
    pub(crate) fn with_user_net(mut self, helper: Option<UserNetProcess>) -> Child {
        self.user_net = helper;
        self
    }

    /// The name of the host side of the sandbox's veth pair (`ibx…`, in the spawning
    /// thread's network namespace) with [`Network::Veth`](crate::Network::Veth); `None` for
    /// other networks, and once the pair has been deleted (when the sandbox is reaped).
    #[must_use]
    pub fn host_veth(&self) -> Option<&str> {
        match (&self.veth, &self.holder) {
            (Some(veth), _) => Some(veth.name()),
            (None, Some((holder, _))) => holder.host_veth(),
            (None, None) => None,
        }
    }

    /// The counters of the veth's bandwidth limits ([`Veth::bandwidth`](crate::Veth::bandwidth)):
    /// bytes, packets and drops of each direction's tbf so far. `None` without limits, and once
    /// the pair has been deleted (when the sandbox is reaped: read them before `wait`).
    pub fn net_stats(&mut self) -> Option<Result<NetStats, Error>> {
        let read = |veth: &mut HostVeth| veth.stats().map(|r| r.map_err(|e| NetworkError::from(e).into()));
        match (&mut self.veth, &mut self.holder) {
            (Some(veth), _) => read(veth),
            (None, Some((holder, _))) => holder.net_stats(),
            (None, None) => None,
        }
    }
}
