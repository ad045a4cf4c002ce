//! The filter compiled once at `build()` (**parent**): the rules checked, the program made, the
//! child left with one system call over a prepared array.

use std::collections::BTreeMap;
use std::fmt;
use std::os::fd::RawFd;

use nix::errno::Errno;

use super::bpf::{self, X32_SYSCALL_BIT};
use super::compile::{self, Action, Policy, Verdict};
use super::error::SeccompError;
use super::profile;
use super::prologue;
use super::spec::{Base, Rule, Seccomp};

/// The program the child installs; empty for no filter.
#[derive(Clone, Default)]
pub(crate) struct SeccompPlan {
    pub program: Vec<libc::sock_filter>,
    /// Some rule notifies: the program starts with the control prologue (`compile::control_prologue`),
    /// whose descriptor numbers each spawn fills in ([`SeccompPlan::for_spawn`]), and is
    /// installed with a listener that the child hands to the parent before exec.
    pub notify: bool,
    /// Installed before the capabilities are dropped, while the child still holds
    /// CAP_SYS_ADMIN: a filter without no_new_privs (which it needs once they are gone). It
    /// then also filters isobox's last steps (ids, capabilities, descriptors, exec).
    pub early: bool,
}

impl SeccompPlan {
    /// The program one spawn installs when some rule notifies (`None` otherwise): this plan's,
    /// its prologue allowing `write` of `report_fd` and `read` of `go_fd`.
    pub fn for_spawn(&self, report_fd: RawFd, go_fd: RawFd) -> Option<Vec<libc::sock_filter>> {
        self.notify.then(|| {
            let mut program = self.program.clone();
            prologue::set_control_fds(&mut program, report_fd as u32, go_fd as u32);
            program
        })
    }
}

impl fmt::Debug for SeccompPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeccompPlan").field("instructions", &self.program.len()).field("notify", &self.notify).finish()
    }
}

/// The system calls the child makes after installing the filter: a deny rule may not name them.
const NEEDED_TO_EXEC: [(i64, &str); 3] =
    [(libc::SYS_execve, "execve"), (libc::SYS_write, "write"), (libc::SYS_exit_group, "exit_group")];

/// The system calls the child makes after installing a filter with a listener, before the
/// parent holds it: a notify rule may not name them (the prologue allows `read` and `write`).
const NEEDED_BEFORE_HANDOFF: [(i64, &str); 2] = [(libc::SYS_execve, "execve"), (libc::SYS_exit_group, "exit_group")];

/// Checks `spec` and compiles its program. A filter needs `no_new_privs`, or, where
/// `early_ok` (no init, no notify rules), is installed early instead ([`SeccompPlan::early`]).
pub(crate) fn compile(spec: &Seccomp, no_new_privs: bool, early_ok: bool) -> Result<SeccompPlan, SeccompError> {
    let rules = checked_rules(spec.rules())?;
    let notify = rules.values().any(|v| *v == Verdict::Is(Action::Notify));
    let mut program = match spec.base() {
        Base::Bpf(_) if !rules.is_empty() => return Err(SeccompError::RulesOnBpf { rules: spec.rules().len() }),
        Base::Bpf(program) => {
            let max = bpf::MAX_INSNS - compile::EXIT_PROLOGUE_LEN;
            match program.len() {
                0 => return Err(SeccompError::EmptyProgram),
                len if len > max => return Err(SeccompError::ProgramTooLong { len, max }),
                _ => {}
            }
            let program: Vec<libc::sock_filter> = program.iter().map(|&i| i.into()).collect();
            compile::behind_exit_prologue(&program)
        }
        Base::AllowAll if rules.values().all(|v| *v == Verdict::Is(Action::Allow)) => Vec::new(),
        Base::AllowAll => compile::program(&deny_list(rules)),
        Base::Profile => compile::program(&default_profile(rules)),
    };
    if notify {
        program = prologue::behind_control_prologue(&program);
    }
    if program.len() > bpf::MAX_INSNS {
        return Err(SeccompError::ProgramTooLong { len: program.len(), max: bpf::MAX_INSNS });
    }
    let early = !program.is_empty() && !no_new_privs;
    if early && (notify || !early_ok) {
        return Err(SeccompError::NeedsNoNewPrivs);
    }
    Ok(SeccompPlan { program, notify, early })
}

/// The user's rules by number, the last for each number winning.
fn checked_rules(rules: &[(i64, Rule)]) -> Result<BTreeMap<u32, Verdict>, SeccompError> {
    let mut checked = BTreeMap::new();
    for &(nr, rule) in rules {
        let number = u32::try_from(nr).ok().filter(|n| *n < X32_SYSCALL_BIT).ok_or(SeccompError::BadNumber { nr })?;
        let action = match rule {
            Rule::Allow => Action::Allow,
            Rule::Deny(errno) => {
                if let Some(&(nr, name)) = NEEDED_TO_EXEC.iter().find(|(needed, _)| *needed == nr) {
                    return Err(SeccompError::NeededToExec { nr, name });
                }
                match u16::try_from(errno as i32) {
                    Ok(raw @ 1..=4095) => Action::Errno(raw),
                    _ => return Err(SeccompError::BadErrno { nr, errno }),
                }
            }
            Rule::Notify => {
                if let Some(&(nr, name)) = NEEDED_BEFORE_HANDOFF.iter().find(|(needed, _)| *needed == nr) {
                    return Err(SeccompError::CannotNotify { nr, name });
                }
                Action::Notify
            }
        };
        checked.insert(number, Verdict::Is(action));
    }
    Ok(checked)
}

const EPERM: Verdict = Verdict::Is(Action::Errno(Errno::EPERM as u16));

/// The default profile with the user's rules over it.
fn default_profile(rules: BTreeMap<u32, Verdict>) -> Policy {
    let mut listed = profile::table();
    listed.extend(rules);
    let mut tail = vec![(profile::known_end(), Verdict::Is(Action::Errno(Errno::ENOSYS as u16)))];
    tail.extend(x32_denied());
    Policy { listed, tail, default: EPERM }
}

/// Everything allowed but what the user denies (and, on x86_64, the x32 ABI).
fn deny_list(rules: BTreeMap<u32, Verdict>) -> Policy {
    Policy { listed: rules, tail: x32_denied().into_iter().collect(), default: Verdict::Is(Action::Allow) }
}

/// x86_64's x32 numbers: a second system-call table, which would bypass any rule on the
/// x86_64 numbers.
fn x32_denied() -> Option<(u32, Verdict)> {
    cfg!(target_arch = "x86_64").then_some((X32_SYSCALL_BIT, EPERM))
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "notify_tests.rs"]
mod notify_tests;
