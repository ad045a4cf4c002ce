//! What the user asks Landlock for (**parent**: plain data, public; compiled by
//! [`super::plan`] at `build()`).

use std::path::{Path, PathBuf};

use bitflags::bitflags;

bitflags! {
    /// Filesystem rights Landlock restricts (`LANDLOCK_ACCESS_FS_*`, landlock(7)). Each is
    /// known to kernels from the Landlock ABI its doc names.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct FsAccess: u64 {
        /// Execute a file (ABI 1).
        const EXECUTE = 1 << 0;
        /// Open a file for writing (ABI 1).
        const WRITE_FILE = 1 << 1;
        /// Open a file for reading (ABI 1).
        const READ_FILE = 1 << 2;
        /// Open a directory or list its content (ABI 1).
        const READ_DIR = 1 << 3;
        /// Remove an empty directory or rename one (ABI 1).
        const REMOVE_DIR = 1 << 4;
        /// Unlink or rename a file (ABI 1).
        const REMOVE_FILE = 1 << 5;
        /// Create, rename or link a character device (ABI 1).
        const MAKE_CHAR = 1 << 6;
        /// Create or rename a directory (ABI 1).
        const MAKE_DIR = 1 << 7;
        /// Create, rename or link a regular file (ABI 1).
        const MAKE_REG = 1 << 8;
        /// Create, rename or link a unix socket (ABI 1).
        const MAKE_SOCK = 1 << 9;
        /// Create, rename or link a named pipe (ABI 1).
        const MAKE_FIFO = 1 << 10;
        /// Create, rename or link a block device (ABI 1).
        const MAKE_BLOCK = 1 << 11;
        /// Create, rename or link a symbolic link (ABI 1).
        const MAKE_SYM = 1 << 12;
        /// Link or rename a file into another directory (ABI 2). Without it (and always on
        /// ABI 1) such a move fails with EXDEV.
        const REFER = 1 << 13;
        /// Truncate a file: truncate(2), ftruncate(2), open with O_TRUNC (ABI 3).
        const TRUNCATE = 1 << 14;
        /// ioctl(2) on character and block devices opened inside the sandbox (ABI 5).
        const IOCTL_DEV = 1 << 15;
    }
}

impl FsAccess {
    /// Reading files and listing directories.
    pub const READ: FsAccess = FsAccess::READ_FILE.union(FsAccess::READ_DIR);
    /// [`FsAccess::READ`] and executing.
    pub const READ_EXEC: FsAccess = FsAccess::READ.union(FsAccess::EXECUTE);
    /// The rights that apply to a file rather than a directory. A rule for a path that is not
    /// a directory grants only these (the kernel refuses the others there).
    pub const FILE: FsAccess = FsAccess::EXECUTE
        .union(FsAccess::WRITE_FILE)
        .union(FsAccess::READ_FILE)
        .union(FsAccess::TRUNCATE)
        .union(FsAccess::IOCTL_DEV);

    /// Every right Landlock ABI `abi` knows (none for 0).
    #[must_use]
    pub const fn known_by(abi: u32) -> FsAccess {
        let bits = match abi {
            0 => 0,
            1 => (1 << 13) - 1,
            2 => (1 << 14) - 1,
            3 | 4 => (1 << 15) - 1,
            _ => (1 << 16) - 1,
        };
        FsAccess::from_bits_truncate(bits)
    }

    /// The oldest Landlock ABI that knows every right in `self` (1 for none).
    #[must_use]
    pub fn abi(self) -> u32 {
        // ABI 5 knows every right of this type.
        (1..=5).find(|abi| FsAccess::known_by(*abi).contains(self)).unwrap_or(5)
    }
}

bitflags! {
    /// IPC that Landlock can confine to the sandbox's own Landlock domain
    /// (`LANDLOCK_SCOPE_*`, ABI 6).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Scopes: u64 {
        /// Connecting to abstract unix sockets made outside the sandbox.
        const ABSTRACT_UNIX_SOCKET = 1 << 0;
        /// Sending signals to processes outside the sandbox.
        const SIGNAL = 1 << 1;
    }
}

/// A Landlock ruleset for the sandbox's program (feature `landlock`): what it may do to the
/// filesystem, and optionally which TCP ports it may bind and connect to and which IPC stays
/// inside. Set it with `SandboxBuilder::landlock`.
///
/// Every filesystem right the kernel's Landlock ABI knows is restricted: what no rule allows
/// is denied (EACCES), including executing the program itself, which needs
/// [`FsAccess::EXECUTE`] on its path (and on the ELF interpreter of a dynamic program). Rules
/// name paths **as the sandbox sees them**, after its mounts and pivot: each path must exist
/// there, or the spawn fails naming it. A rule covers the file or the whole tree below the
/// directory it names.
///
/// Nothing is dropped in silence: a rule, a network rule, a scope or [`Landlock::require_abi`]
/// that needs a newer ABI than the kernel's makes `build()` fail, and `Sandbox::landlock_abi`
/// says which ABI applies. On an older ABI, the rights it does not know are not restricted
/// (a kernel without TRUNCATE lets every file be truncated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Landlock {
    pub(crate) rules: Vec<PathRule>,
    /// TCP ports allowed; `None`: TCP is not restricted.
    pub(crate) tcp: Option<TcpRules>,
    pub(crate) scopes: Scopes,
    pub(crate) required_abi: Option<u32>,
}

/// One path rule as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathRule {
    pub path: PathBuf,
    pub access: FsAccess,
    /// A preset ([`Landlock::read_write`]): keeps only what the kernel knows instead of
    /// refusing the rest.
    pub up_to_kernel: bool,
}

/// TCP ports allowed to bind and to connect to, once TCP is restricted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TcpRules {
    pub bind: Vec<u16>,
    pub connect: Vec<u16>,
}

impl Landlock {
    /// The newest Landlock ABI isobox knows. A kernel with a newer one is used at this one.
    pub const NEWEST_ABI: u32 = super::NEWEST_ABI;

    /// A ruleset with no rule: the program may not read, write or execute any file.
    pub fn new() -> Landlock {
        Landlock::default()
    }

    /// Allows exactly `access` on `path` (absolute, inside the sandbox) and below it. A right
    /// the kernel's ABI does not know makes `build()` fail.
    pub fn allow(self, path: impl AsRef<Path>, access: FsAccess) -> Landlock {
        self.rule(path, access, false)
    }

    /// Allows reading files and listing directories at and below `path`.
    pub fn read_only(self, path: impl AsRef<Path>) -> Landlock {
        self.rule(path, FsAccess::READ, false)
    }

    /// Allows reading, listing and executing at and below `path`.
    pub fn read_exec(self, path: impl AsRef<Path>) -> Landlock {
        self.rule(path, FsAccess::READ_EXEC, false)
    }

    /// Allows every right the kernel knows but executing at and below `path`: read, write,
    /// create, remove, link and rename, truncate, device ioctls.
    pub fn read_write(self, path: impl AsRef<Path>) -> Landlock {
        self.rule(path, FsAccess::all() - FsAccess::EXECUTE, true)
    }

    fn rule(mut self, path: impl AsRef<Path>, access: FsAccess, up_to_kernel: bool) -> Landlock {
        self.rules.push(PathRule { path: path.as_ref().to_path_buf(), access, up_to_kernel });
        self
    }

    /// Restricts TCP too (ABI 4): binding and connecting are refused (EACCES) on every port
    /// not allowed with [`Landlock::allow_tcp_bind`] or [`Landlock::allow_tcp_connect`].
    /// UDP and other protocols are not affected.
    pub fn restrict_tcp(mut self) -> Landlock {
        self.tcp.get_or_insert_with(TcpRules::default);
        self
    }

    /// Restricts TCP (see [`Landlock::restrict_tcp`]) and allows binding to `port`.
    pub fn allow_tcp_bind(mut self, port: u16) -> Landlock {
        self.tcp.get_or_insert_with(TcpRules::default).bind.push(port);
        self
    }

    /// Restricts TCP (see [`Landlock::restrict_tcp`]) and allows connecting to `port`.
    pub fn allow_tcp_connect(mut self, port: u16) -> Landlock {
        self.tcp.get_or_insert_with(TcpRules::default).connect.push(port);
        self
    }

    /// Confines `scopes` to the sandbox (ABI 6): its processes may not signal, or connect to
    /// abstract unix sockets of, processes outside it.
    pub fn scope(mut self, scopes: Scopes) -> Landlock {
        self.scopes |= scopes;
        self
    }

    /// Makes `build()` fail unless the sandbox's ruleset uses at least Landlock ABI `abi`.
    pub fn require_abi(mut self, abi: u32) -> Landlock {
        self.required_abi = Some(self.required_abi.map_or(abi, |a| a.max(abi)));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_right_is_known_from_its_abi() {
        assert_eq!(FsAccess::known_by(0), FsAccess::empty());
        assert!(!FsAccess::known_by(1).contains(FsAccess::REFER));
        assert!(FsAccess::known_by(1).contains(FsAccess::MAKE_SYM | FsAccess::EXECUTE));
        assert_eq!(FsAccess::known_by(2) - FsAccess::known_by(1), FsAccess::REFER);
        assert_eq!(FsAccess::known_by(3) - FsAccess::known_by(2), FsAccess::TRUNCATE);
        assert_eq!(FsAccess::known_by(4), FsAccess::known_by(3));
        assert_eq!(FsAccess::known_by(5) - FsAccess::known_by(4), FsAccess::IOCTL_DEV);
        assert_eq!(FsAccess::known_by(5), FsAccess::all());
        assert_eq!(FsAccess::known_by(99), FsAccess::all());
        assert_eq!(FsAccess::empty().abi(), 1);
        assert_eq!(FsAccess::READ_EXEC.abi(), 1);
        assert_eq!((FsAccess::READ | FsAccess::REFER).abi(), 2);
        assert_eq!(FsAccess::TRUNCATE.abi(), 3);
        assert_eq!(FsAccess::all().abi(), 5);
    }

    #[test]
    fn presets_and_network_rules_are_recorded() {
        let l = Landlock::new().read_exec("/usr").read_write("/tmp").allow_tcp_connect(80).require_abi(3);
        assert_eq!(l.rules[0], PathRule { path: "/usr".into(), access: FsAccess::READ_EXEC, up_to_kernel: false });
        assert_eq!(l.rules[1].access, FsAccess::all() - FsAccess::EXECUTE);
        assert!(l.rules[1].up_to_kernel);
        assert_eq!(l.tcp, Some(TcpRules { bind: vec![], connect: vec![80] }));
        assert_eq!(l.clone().require_abi(2).required_abi, Some(3), "the higher requirement stays");
        assert_eq!(Landlock::new().restrict_tcp().tcp, Some(TcpRules::default()));
        assert_eq!(Landlock::new().tcp, None);
    }
}
