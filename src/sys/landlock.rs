//! Landlock's three system calls (Linux 5.13; landlock(7)), raw: they never touch `errno`.
//!
//! The **child** creates a ruleset from an attribute the parent prepared, adds its rules and
//! restricts itself; the **parent** asks the kernel's ABI version at `build()` through the
//! same call (harmless there, and one code path fewer). Async-signal-safe: no allocation.
//!
//! # Safety
//! No `unsafe` here: every call goes through `child::call`, passing only integers, null, or
//! pointers to live `#[repr(C)]` values laid out as the kernel's uapi structs, with the size
//! the kernel reads from them where the call takes one.

use std::os::fd::RawFd;

use nix::errno::Errno;

use super::child::call;

/// `LANDLOCK_CREATE_RULESET_VERSION`: with a null attribute, returns the ABI version.
const CREATE_RULESET_VERSION: usize = 1 << 0;
/// `LANDLOCK_RULE_PATH_BENEATH`.
const RULE_PATH_BENEATH: usize = 1;
/// `LANDLOCK_RULE_NET_PORT` (ABI 4).
const RULE_NET_PORT: usize = 2;

/// `LANDLOCK_ACCESS_NET_BIND_TCP` (ABI 4).
pub const ACCESS_NET_BIND_TCP: u64 = 1 << 0;
/// `LANDLOCK_ACCESS_NET_CONNECT_TCP` (ABI 4).
pub const ACCESS_NET_CONNECT_TCP: u64 = 1 << 1;

/// `struct landlock_ruleset_attr` as of ABI 6. Older kernels take it whole as long as the
/// fields they do not know are 0 (the kernel's `copy_struct_from_user`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RulesetAttr {
    /// Filesystem rights the ruleset restricts (`LANDLOCK_ACCESS_FS_*`).
    pub handled_access_fs: u64,
    /// Network rights the ruleset restricts (`LANDLOCK_ACCESS_NET_*`, ABI 4).
    pub handled_access_net: u64,
    /// IPC the ruleset confines to its domain (`LANDLOCK_SCOPE_*`, ABI 6).
    pub scoped: u64,
}

/// `struct landlock_path_beneath_attr`, which the uapi header declares packed (12 bytes).
#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

/// `struct landlock_net_port_attr` (ABI 4).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct NetPortAttr {
    /// `LANDLOCK_ACCESS_NET_*` rights allowed on the port.
    pub allowed_access: u64,
    /// The TCP port, in host byte order.
    pub port: u64,
}

/// The kernel's Landlock ABI version: `landlock_create_ruleset(NULL, 0, VERSION)`.
/// ENOSYS: no Landlock in this kernel; EOPNOTSUPP: built in but not enabled at boot.
pub fn abi_version() -> Result<u32, Errno> {
    let version = call(libc::SYS_landlock_create_ruleset, [0, 0, CREATE_RULESET_VERSION, 0, 0, 0])?;
    Ok(u32::try_from(version).unwrap_or(u32::MAX))
}

/// landlock_create_ruleset(2): a new ruleset descriptor (close-on-exec, as the kernel makes
/// it). Async-signal-safe: does not allocate.
pub fn create_ruleset(attr: &RulesetAttr) -> Result<RawFd, Errno> {
    // The pointer and the size of the whole struct it points to.
    let args = [attr as *const RulesetAttr as usize, std::mem::size_of::<RulesetAttr>(), 0, 0, 0, 0];
    call(libc::SYS_landlock_create_ruleset, args).map(|fd| fd as RawFd)
}

/// landlock_add_rule(2) of a `LANDLOCK_RULE_PATH_BENEATH` rule: `allowed` under the file or
/// directory open at `parent` (O_PATH will do). Async-signal-safe: does not allocate.
pub fn add_path_beneath(ruleset: RawFd, parent: RawFd, allowed: u64) -> Result<(), Errno> {
    let attr = PathBeneathAttr { allowed_access: allowed, parent_fd: parent };
    // The kernel reads the packed 12-byte struct from the pointer (it copies it unaligned).
    let args = [ruleset as usize, RULE_PATH_BENEATH, &attr as *const PathBeneathAttr as usize, 0, 0, 0];
    call(libc::SYS_landlock_add_rule, args).map(drop)
}

/// landlock_add_rule(2) of a `LANDLOCK_RULE_NET_PORT` rule (ABI 4). Async-signal-safe: does
/// not allocate.
pub fn add_net_port(ruleset: RawFd, rule: &NetPortAttr) -> Result<(), Errno> {
    let args = [ruleset as usize, RULE_NET_PORT, rule as *const NetPortAttr as usize, 0, 0, 0];
    call(libc::SYS_landlock_add_rule, args).map(drop)
}

/// landlock_restrict_self(2) with no flags: the calling thread, and everything it executes or
/// forks from now on, is confined by the ruleset. Needs no_new_privs or CAP_SYS_ADMIN.
/// Async-signal-safe: does not allocate.
pub fn restrict_self(ruleset: RawFd) -> Result<(), Errno> {
    call(libc::SYS_landlock_restrict_self, [ruleset as usize, 0, 0, 0, 0, 0]).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_structs_have_the_kernels_sizes() {
        assert_eq!(std::mem::size_of::<RulesetAttr>(), 24);
        assert_eq!(std::mem::size_of::<PathBeneathAttr>(), 12);
        assert_eq!(std::mem::size_of::<NetPortAttr>(), 16);
    }
}
