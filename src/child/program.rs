//! The program's last steps (**child**): the seccomp filter, a listener's handover, exec.
//! Run by the sandbox's first process, or with isobox's init by the program beside it.

use std::convert::Infallible;
use std::os::fd::RawFd;

use super::exec::exec;
use super::plan::ChildPlan;
use super::record::{at, record, Record};
use super::step::Step;
use crate::seccomp;

/// Installs the filter, hands its listener over (taken by the parent through `holder_pidfd`,
/// the first process's pidfd for the program, when the program holds it) and executes.
pub(super) fn finish(p: &ChildPlan<'_>, holder_pidfd: Option<RawFd>) -> Result<Infallible, Record> {
    let (setup, launch) = (p.setup, &p.launch);
    let listener =
        seccomp::apply::install(&setup.seccomp, launch.seccomp_program).map_err(|e| record(Step::Seccomp, (0, e)))?;
    let (report, go) = (launch.control.report_write, launch.control.go_read);
    at(Step::NotifyHandoff, seccomp::handoff::hand_over(listener, holder_pidfd, report, go))?;
    Err(record(Step::Exec, exec(launch.exec)))
}
