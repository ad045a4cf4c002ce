//! Checking the rlimits at `build()` (**parent**): a soft limit above its hard limit is refused.
//! The open-files limit is set apart (see [`RlimitPlan`]).

use super::spec::{Resource, Rlimit};
use crate::error::ConfigError;

/// The rlimits as the child sets them. All but RLIMIT_NOFILE are set early, in the order
/// given, while the child still has its capabilities. RLIMIT_NOFILE is set once the child has
/// arranged its descriptors and closed the caller's: until then the caller's descriptors sit
/// at their numbers in the child's table, and a low limit would refuse the child's own
/// copies, its Landlock ruleset or its seccomp listener (EMFILE) though the program would
/// have fitted. A hard limit above the caller's is raised early too, as the raise needs
/// CAP_SYS_RESOURCE, which the switch to the program's ids takes away.
#[derive(Debug, Clone, Default)]
pub(crate) struct RlimitPlan {
    /// The builder's rlimits, in order; a failure's index names one.
    pub list: Vec<Rlimit>,
    /// The index in `list` of the open-files limit (the last one given), set late.
    pub nofile: Option<usize>,
    /// Raise the open-files hard limit (soft = hard = its hard) early.
    pub raise_nofile_early: bool,
}

impl RlimitPlan {
    /// The open-files limit the child has while it arranges its descriptors: the raised one,
    /// else the caller's own soft limit.
    pub fn nofile_while_arranging(&self) -> u64 {
        match self.nofile.map(|i| self.list[i]) {
            Some(r) if self.raise_nofile_early => r.hard,
            _ => caller_nofile().0,
        }
    }
}

/// Checks `rlimits` and sets the open-files limit apart.
pub(crate) fn compile(rlimits: &[Rlimit]) -> Result<RlimitPlan, ConfigError> {
    if let Some(r) = rlimits.iter().find(|r| r.soft > r.hard) {
        return Err(ConfigError::Rlimit { resource: r.resource, soft: r.soft, hard: r.hard });
    }
    let nofile = rlimits.iter().rposition(|r| r.resource == Resource::NoFile);
    let raise_nofile_early = nofile.is_some_and(|i| rlimits[i].hard > caller_nofile().1);
    Ok(RlimitPlan { list: rlimits.to_vec(), nofile, raise_nofile_early })
}

/// The caller's soft and hard open-files limits (unlimited if they cannot be read).
fn caller_nofile() -> (u64, u64) {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap_or((u64::MAX, u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_open_files_limit_is_set_apart_and_raised_early_only_above_the_callers() {
        let (_, hard) = caller_nofile();
        let r = |resource, soft, hard| Rlimit { resource, soft, hard };
        let low = [r(Resource::NoFile, 8, 8), r(Resource::Core, 0, 0), r(Resource::NoFile, 16, 16)];
        let plan = compile(&low).unwrap();
        assert_eq!((plan.nofile, plan.raise_nofile_early), (Some(2), false));
        assert_eq!(plan.nofile_while_arranging(), caller_nofile().0);
        if hard < u64::MAX {
            let plan = compile(&[r(Resource::NoFile, hard + 1, hard + 1)]).unwrap();
            assert_eq!((plan.nofile, plan.raise_nofile_early), (Some(0), true));
            assert_eq!(plan.nofile_while_arranging(), hard + 1);
        }
        assert_eq!(compile(&[r(Resource::Core, 0, 0)]).unwrap().nofile, None);
        assert!(compile(&[r(Resource::Core, 2, 1)]).is_err());
    }
}
