//! Subordinate ids and the setuid helpers that write them (**parent**, read-only): the caller
//! and the parsing `UserMapping::Subordinate` uses at `build()`, and the helpers as its spawn
//! finds them (in `PATH`).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use super::report::{Check, CheckState, Detail, Finding, HelperPrivilege};
use crate::user::caller::Caller;
use crate::user::plan::parse_subids;

/// Both files and both helpers.
pub(super) fn findings(out: &mut Vec<Finding>) {
    let caller = Caller::current();
    out.push(subordinate(&caller, Check::SubordinateUids, "/etc/subuid", caller.uid));
    out.push(subordinate(&caller, Check::SubordinateGids, "/etc/subgid", caller.uid));
    out.push(helper(Check::Newuidmap, "newuidmap"));
    out.push(helper(Check::Newgidmap, "newgidmap"));
}

fn subordinate(caller: &Caller, check: Check, file: &'static str, uid: u32) -> Finding {
    let user = caller.name.clone().unwrap_or_else(|| caller.uid.to_string());
    let (ranges, errno) = match std::fs::read_to_string(file) {
        Ok(text) => (parse_subids(&text, caller.name.as_deref(), uid), None),
        Err(e) => (Vec::new(), Some(e.raw_os_error().map_or(Errno::EIO, Errno::from_raw))),
    };
    let state = if ranges.is_empty() { CheckState::Missing } else { CheckState::Works };
    let fix = ranges.is_empty().then(|| {
        format!(
            "only UserMapping::Subordinate needs them: usermod --add-subuids 100000-165535 --add-subgids \
             100000-165535 {user}"
        )
    });
    Finding { check, state, detail: Detail::SubordinateIds { file, user, ranges, errno }, fix }
}

fn helper(check: Check, program: &'static str) -> Finding {
    let path = find_in_path(program);
    let privilege = path.as_deref().map_or(HelperPrivilege::None, privilege);
    let (state, fix) = match (&path, privilege) {
        (None, _) => (CheckState::Missing, Some(format!("install the uidmap package, which provides {program}"))),
        (Some(p), HelperPrivilege::None) => (
            CheckState::Forbidden,
            Some(format!("{} is neither setuid root nor has file capabilities: chmod u+s {0}", p.display())),
        ),
        _ => (CheckState::Works, None),
    };
    Finding { check, state, detail: Detail::IdMapHelper { path, privilege }, fix }
}

/// The first executable `program` in `PATH`, as `std::process::Command` finds it.
pub(super) fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0))
}

fn privilege(path: &Path) -> HelperPrivilege {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let Ok(meta) = std::fs::metadata(&real) else { return HelperPrivilege::None };
    if meta.uid() == 0 && meta.mode() & libc::S_ISUID != 0 {
        return HelperPrivilege::Setuid;
    }
    let Ok(c_path) = std::ffi::CString::new(real.into_os_string().into_encoded_bytes()) else {
        return HelperPrivilege::None;
    };
    let mut buf = [0u8; 64];
    match crate::sys::image_xattr::get(&c_path, c"security.capability", &mut buf) {
        Ok(Some(_)) => HelperPrivilege::FileCapabilities,
        _ => HelperPrivilege::None,
    }
}
