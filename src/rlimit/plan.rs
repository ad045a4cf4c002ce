//! Checking the rlimits at `build()` (**parent**): a soft limit above its hard limit is refused.

use super::spec::Rlimit;
use crate::error::ConfigError;

/// The rlimits as the child sets them, in the order given.
pub(crate) fn compile(rlimits: &[Rlimit]) -> Result<Vec<Rlimit>, ConfigError> {
    match rlimits.iter().find(|r| r.soft > r.hard) {
        Some(r) => Err(ConfigError::Rlimit { resource: r.resource, soft: r.soft, hard: r.hard }),
        None => Ok(rlimits.to_vec()),
    }
}
