//! A failed network step in the child, in words (**parent**).

/// The interface the loopback step brings up.
pub(crate) const LOOPBACK: &str = "lo";
