//! Turning a child's failure record into words (**parent**): which object, and what to do.

use nix::errno::Errno;

use crate::cgroup::join::JoinFile;
use crate::config::Config;
use std::path::Path;

use crate::plan::{Op, Origin};
use crate::prepare::Prepared;
use crate::report::{Record, Step};

/// The object a failed step was working on, and a hint where the host is the likely cause.
pub(crate) fn describe(
    rec: &Record,
    config: &Config,
    p: &Prepared,
    join: &[JoinFile],
) -> (Option<String>, Option<&'static str>) {
    let index = usize::from(rec.index);
    match rec.step {
        Step::Mount => match config.plan.ops.get(index) {
            Some(planned) => {
                let object = mount_object(&planned.origin, &planned.op, &config.plan.root);
                (Some(object), mount_hint(&planned.op, rec.errno))
            }
            None => (Some(format!("#{index}")), None),
        },
        Step::Rlimit => match config.rlimits.get(index) {
            Some(r) => {
                let hint =
                    (rec.errno == Errno::EPERM).then_some("raising a hard limit needs CAP_SYS_RESOURCE on the host");
                (Some(format!("#{index} {} soft={} hard={}", r.resource.name(), r.soft, r.hard)), hint)
            }
            None => (Some(format!("#{index}")), None),
        },
        Step::Exec => (p.candidates.get(index).map(|c| c.to_string_lossy().into_owned()), None),
        Step::Chdir => (p.cwd.as_ref().map(|c| c.to_string_lossy().into_owned()), None),
        Step::Uid | Step::Gid | Step::Groups => (None, id_hint(rec.errno)),
        Step::Unshare | Step::TimeOffsets => (None, time_hint(rec.errno, config)),
        Step::Loopback => (Some("lo".into()), None),
        Step::JoinCgroup => (join.get(index).map(|f| f.path.display().to_string()), join_hint(rec.errno)),
        _ => (None, None),
    }
}

fn mount_object(origin: &Origin, op: &Op, root: &Path) -> String {
    let what = match origin {
        Origin::Root => "entering the new root".to_string(),
        Origin::DefaultRoot => "building the default root".to_string(),
        Origin::Rootfs(path) => format!("binding rootfs {}", path.display()),
        Origin::UserMount { index, mount } => format!("#{index} ({mount})"),
        Origin::ReadOnlyRoot => "making the root read-only".to_string(),
    };
    format!("{what}, at {}", op_text(op, root))
}

/// The operation in the user's terms: targets as paths inside the sandbox, sources as host paths.
fn op_text(op: &Op, root: &Path) -> String {
    let s = |c: &std::ffi::CString| inside_path(&c.to_string_lossy(), root);
    let host = |c: &std::ffi::CString| c.to_string_lossy().into_owned();
    match op {
        Op::MakePrivate => "making / private".into(),
        Op::Tmpfs { target, .. } => format!("tmpfs on {}", s(target)),
        Op::Mkdir { path } => format!("mkdir {}", s(path)),
        Op::Touch { path } => format!("creating file {}", s(path)),
        Op::Chmod { path, mode } => format!("chmod {mode:o} {}", s(path)),
        Op::Symlink { target, link } => format!("symlink {} -> {}", s(link), host(target)),
        Op::Bind { source, target } => format!("bind {} -> {}", host(source), s(target)),
        Op::ReadOnly { target, .. } => format!("read-only {}", s(target)),
        Op::Proc { target } => format!("proc on {}", s(target)),
        Op::Devpts { target } => format!("devpts on {}", s(target)),
        Op::EnterNewRoot { .. } => "pivot_root into the new root".into(),
    }
}

/// A path under the new root as the sandbox will see it: `<root>/x` is `/x`.
fn inside_path(staged: &str, root: &Path) -> String {
    match Path::new(staged).strip_prefix(root) {
        Ok(rest) => format!("/{}", rest.display()),
        Err(_) => staged.to_string(),
    }
}

fn mount_hint(op: &Op, errno: Errno) -> Option<&'static str> {
    match (op, errno) {
        (Op::ReadOnly { .. }, Errno::ENOSYS) => Some("read-only mounts need mount_setattr(2), Linux 5.12 or later"),
        (Op::Proc { .. }, Errno::EPERM) => Some(
            "mounting proc in a user namespace needs Namespaces::PID and a host /proc with nothing mounted over its entries",
        ),
        (_, Errno::EACCES) => Some(
            "a security module (AppArmor, SELinux) or missing search permission on the path may deny this; \
             unprivileged callers cannot reach directories they could not reach outside",
        ),
        (Op::EnterNewRoot { .. }, Errno::EINVAL) => {
            Some("pivot_root fails when the host root is the initramfs (rootfs); boot with a real root filesystem")
        }
        _ => None,
    }
}

fn join_hint(errno: Errno) -> Option<&'static str> {
    match errno {
        Errno::EACCES | Errno::EPERM => Some(
            "the caller must be root or own the cgroup's tasks/cgroup.procs file (a security module may deny it too)",
        ),
        Errno::ENOSPC => Some("a v1 cpuset cgroup needs cpuset.cpus and cpuset.mems set before it takes a process"),
        Errno::ENOENT => Some("the cgroup parent was removed while the sandbox was starting"),
        _ => None,
    }
}

fn id_hint(errno: Errno) -> Option<&'static str> {
    (errno == Errno::EINVAL || errno == Errno::EPERM).then_some(
        "the id must be mapped in the user namespace (see UserMapping), and setgroups is denied without privileges",
    )
}

fn time_hint(errno: Errno, config: &Config) -> Option<&'static str> {
    let time = config.namespaces.contains(crate::Namespaces::TIME);
    match errno {
        Errno::EINVAL if time => Some("time namespaces need Linux 5.6 or later"),
        Errno::EPERM | Errno::EACCES if time => Some("time offsets need CAP_SYS_TIME in the sandbox's user namespace"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_cgroup_join_gets_a_hint_for_each_likely_cause() {
        assert!(join_hint(Errno::EACCES).unwrap().contains("own the cgroup"));
        assert!(join_hint(Errno::ENOSPC).unwrap().contains("cpuset"));
        assert_eq!(join_hint(Errno::EIO), None);
    }

    #[test]
    fn paths_are_shown_as_the_user_wrote_them() {
        let root = Path::new("/tmp");
        assert_eq!(inside_path("/tmp/usr/x", root), "/usr/x");
        assert_eq!(inside_path("/tmp", root), "/");
        assert_eq!(inside_path("/elsewhere", root), "/elsewhere");
        let op = Op::Bind { source: c"/tmp/data".into(), target: c"/tmp/mnt".into() };
        assert_eq!(op_text(&op, root), "bind /tmp/data -> /mnt");
    }
}
