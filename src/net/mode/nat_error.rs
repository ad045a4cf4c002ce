//! A veth's NAT that could not be set up or read back (**parent**): the step, the object and
//! what the tool or the kernel said, with a hint where the host is the cause.

use std::fmt;
use std::io;

use crate::hint;

/// What isobox was doing for a `Veth::nat` sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NatStep {
    /// Turning IPv4 forwarding on for the host end (`/proc/sys/net/ipv4/conf/<host end>/forwarding`).
    Forwarding,
    /// Checking that the interfaces of the default routes forward (the replies come in there).
    OutboundForwarding,
    /// Adding the masquerade rule (`nft -f -`: `table ip isobox`, chain `postrouting`).
    AddRule,
    /// Listing the chain to find the rule just added.
    ReadBack,
    /// Deleting a rule (the sandbox's, or a dead owner's) and the table once empty.
    Remove,
}

impl fmt::Display for NatStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Forwarding => "turning IPv4 forwarding on for the host end",
            Self::OutboundForwarding => "checking IPv4 forwarding on the outbound interface",
            Self::AddRule => "adding the masquerade rule (nft, table ip isobox)",
            Self::ReadBack => "reading the masquerade rule back (nft list chain ip isobox postrouting)",
            Self::Remove => "removing a masquerade rule (nft, table ip isobox)",
        })
    }
}

/// A veth's NAT that could not be set up; nothing of it is left.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NatError {
    /// A file of `/proc/sys` or `/proc/thread-self/net` could not be read or written.
    #[error("{step}: {path}: {source}")]
    Proc {
        /// The step.
        step: NatStep,
        /// The file.
        path: String,
        /// The error.
        source: io::Error,
    },
    /// An interface a default route goes through does not forward IPv4: the sandbox's
    /// packets would leave, their replies would be dropped there. isobox does not turn a
    /// host-wide setting on by itself.
    #[error("{step}: {interface} has forwarding off{}", hint::suffix(Some(OUTBOUND_HINT)))]
    OutboundForwardingOff {
        /// The step.
        step: NatStep,
        /// The interface.
        interface: String,
    },
    /// The `nft` binary could not be run.
    #[error("{step}: running nft: {source}{}", hint::suffix(Some(NFT_HINT)))]
    Tool {
        /// The step.
        step: NatStep,
        /// The error.
        source: io::Error,
    },
    /// `nft` failed (its exit status and what it said).
    #[error("{step}: nft exited with {status}: {stderr}")]
    Nft {
        /// The step.
        step: NatStep,
        /// Its exit status.
        status: String,
        /// Its standard error, trimmed.
        stderr: String,
    },
    /// The rule was added but is not in the chain's listing (or nft printed no handle).
    #[error("{step}: no rule with comment {comment:?} in the listing")]
    NotFound {
        /// The step.
        step: NatStep,
        /// The rule's comment.
        comment: String,
    },
}

const OUTBOUND_HINT: &str = "turn forwarding on for the interface the sandbox's traffic leaves through \
     (sysctl -w net.ipv4.conf.<interface>.forwarding=1, or net.ipv4.ip_forward=1 for all), or leave Veth::nat off";

const NFT_HINT: &str = "Veth::nat needs the nft binary of nftables in PATH (Debian: apt-get install nftables)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_step_and_hint_at_the_host() {
        let off = NatError::OutboundForwardingOff { step: NatStep::OutboundForwarding, interface: "eth9".into() };
        let off = off.to_string();
        assert!(off.contains("eth9") && off.contains("net.ipv4.conf.<interface>.forwarding"), "{off}");
        let tool = NatError::Tool { step: NatStep::AddRule, source: io::ErrorKind::NotFound.into() }.to_string();
        assert!(tool.contains("masquerade rule") && tool.contains("apt-get install nftables"), "{tool}");
    }
}
