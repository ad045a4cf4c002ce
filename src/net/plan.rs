//! The network namespace at `build()` (**parent**): what the child sets up in it.

use crate::namespaces::Namespaces;

/// What the child does for networking.
#[derive(Debug, Clone, Default)]
pub(crate) struct NetPlan {
    /// Bring loopback up: the sandbox has its own network namespace.
    pub loopback: bool,
}

/// The plan for namespaces `ns`.
pub(crate) fn compile(ns: Namespaces) -> NetPlan {
    NetPlan { loopback: ns.contains(Namespaces::NET) }
}
