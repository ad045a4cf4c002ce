//! Turning the child's failure record into a typed error (**parent**): the step, the object
//! it worked on (from the parent's own copy of the plan) and a hint from the wing it belongs to.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use nix::errno::Errno;

use super::plan::{ChildLaunch, ChildSetup};
use super::record::Record;
use super::setup_error::{SetupError, SetupObject};
use super::step::Step;
use crate::error::{Error, SpawnError};
use crate::mount::describe::MountAction;
use crate::{caps, cgroup, mount, net, rlimit, seccomp, time, user};

/// The error for what the child wrote on the report pipe before it exited.
pub(crate) fn setup_failure(report: &[u8], setup: &ChildSetup, launch: &ChildLaunch<'_>) -> Error {
    let Some(rec) = Record::decode(report) else {
        return SpawnError::MalformedReport { len: report.len() }.into();
    };
    if rec.step == Step::Exec && matches!(rec.errno, Errno::ENOENT | Errno::ENOTDIR) {
        let exec = launch.exec;
        let program = exec.argv.iter().next().map(|a| OsStr::from_bytes(a.to_bytes()).to_os_string());
        let searched = exec.candidates.iter().map(|c| path(c.to_bytes())).collect();
        return Error::ProgramNotFound { program: program.unwrap_or_default(), searched };
    }
    let (object, hint) = describe(&rec, setup, launch);
    SetupError { step: rec.step, object, errno: rec.errno, hint }.into()
}

const SYSCTL_EINVAL: &str =
    "the kernel refused the value, or read it back otherwise: check the setting's range and format";

const START_PROGRAM_EAGAIN: &str = "no room for one more process beside isobox's init: the host's \
    process limits (kernel.threads-max, kernel.pid_max) or the caller's own RLIMIT_NPROC; \
    init(false) runs the program as pid 1 instead";
const START_INIT_ENOMEM: &str = "executing isobox's init needs a little memory of its own: a memory \
    or address-space limit (RLIMIT_AS, RLIMIT_DATA) leaves none";

/// The object a failed step was working on, and a hint where the host is the likely cause.
fn describe(rec: &Record, setup: &ChildSetup, launch: &ChildLaunch<'_>) -> (Option<SetupObject>, Option<&'static str>) {
    let index = usize::from(rec.index);
    let errno = rec.errno;
    match rec.step {
        Step::Mount => match setup.mounts.ops.get(index) {
            Some(planned) => {
                let action = MountAction::of(&planned.op);
                (
                    Some(SetupObject::Mount { part: planned.part.clone(), action }),
                    mount::describe::hint(&planned.op, errno),
                )
            }
            None => (None, None),
        },
        Step::Overlay => match setup.mounts.overlay() {
            Some(plan) => {
                let action = mount::overlay::describe::action(plan, index);
                let part = crate::mount::ops::MountPart::OverlayRoot;
                (Some(SetupObject::Mount { part, action }), mount::overlay::describe::hint(plan, index, errno))
            }
            None => (None, None),
        },
        Step::Rlimit => {
            let object = setup.rlimits.list.get(index).map(|r| SetupObject::Rlimit { index, rlimit: *r });
            (object, rlimit::describe::hint(errno))
        }
        Step::Exec => {
            (launch.exec.candidates.get(index).map(|c| SetupObject::Path(path(c.to_bytes()))), exec_hint(setup, errno))
        }
        Step::Sysctl => {
            let file = setup.sysctl.entries.get(index).map(|(_, p, _)| SetupObject::Path(path(p.to_bytes())));
            (file, (errno == Errno::EINVAL).then_some(SYSCTL_EINVAL))
        }
        Step::Chdir => (launch.exec.cwd.as_ref().map(|c| SetupObject::Path(path(c.to_bytes()))), None),
        Step::SetupIds | Step::Groups | Step::Gid | Step::Uid => (None, user::describe::id_hint(errno)),
        Step::DropBounding => (
            caps::describe::dropped(&setup.caps, index).map(SetupObject::Capability),
            caps::describe::bounding_hint(errno),
        ),
        Step::Capabilities => (None, caps::describe::capset_hint(errno)),
        Step::AmbientCapabilities => (
            caps::describe::raised(&setup.caps, index).map(SetupObject::Capability),
            caps::describe::ambient_hint(errno),
        ),
        Step::UnshareTime => (None, time::describe::hint(errno)),
        Step::TimeOffsets => {
            (Some(SetupObject::Path(path(time::apply::OFFSETS_FILE.to_bytes()))), time::describe::hint(errno))
        }
        Step::Seccomp => (None, seccomp::describe::hint(errno)),
        Step::StartProgram if errno == Errno::EAGAIN => (None, Some(START_PROGRAM_EAGAIN)),
        Step::StartInit if errno == Errno::ENOMEM => (None, Some(START_INIT_ENOMEM)),
        Step::Setns => (None, crate::join::describe::setns_hint(errno)),
        Step::StartJoined => (None, crate::join::describe::start_hint(errno)),
        Step::Loopback => (Some(SetupObject::Interface(net::describe::LOOPBACK)), None),
        Step::JoinCgroup => {
            let file = cgroup::describe::join_file(launch.cgroup_join, index);
            (file.map(SetupObject::Path), cgroup::describe::join_hint(errno))
        }
        #[cfg(feature = "landlock")]
        Step::Landlock => {
            let (path, hint) = crate::landlock::describe::failure(setup.landlock.as_ref(), index, errno);
            (path.map(SetupObject::Path), hint)
        }
        _ => (None, None),
    }
}

/// An exec refused with EACCES may be Landlock's doing.
#[cfg(feature = "landlock")]
fn exec_hint(setup: &ChildSetup, errno: Errno) -> Option<&'static str> {
    crate::landlock::describe::exec_hint(setup.landlock.as_ref(), errno)
}

#[cfg(not(feature = "landlock"))]
fn exec_hint(_: &ChildSetup, _: Errno) -> Option<&'static str> {
    None
}

fn path(bytes: &[u8]) -> PathBuf {
    PathBuf::from(OsStr::from_bytes(bytes))
}
