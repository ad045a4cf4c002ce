//! The system-call filter a user asks for (**parent**: plain data, public; checked and compiled
//! at `build()`).

use nix::errno::Errno;

use super::profile;
use super::syscalls::Syscall;

/// The seccomp filter a sandbox's program runs under: the default profile (with rules of your
/// own on top), no filter, or a compiled BPF program of your own.
///
/// ```
/// use isobox::{Sandbox, Seccomp};
/// use nix::errno::Errno;
///
/// // The default profile, with ptrace allowed back and getcpu answered with EACCES.
/// let filter = Seccomp::default_profile().allow(libc::SYS_ptrace).deny(libc::SYS_getcpu, Errno::EACCES);
/// let sandbox = Sandbox::builder().seccomp(filter).build()?;
/// # Ok::<(), isobox::Error>(())
/// ```
///
/// The module docs of the crate list what the default profile denies and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seccomp {
    base: Base,
    /// In the order given: a later rule for the same number wins.
    rules: Vec<(i64, Rule)>,
}

/// What the rules go on top of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Base {
    /// The default profile: an allowlist, everything else ERRNO(EPERM).
    Profile,
    /// Everything allowed: no filter at all unless a rule denies something.
    AllowAll,
    /// The user's own program, installed as given (behind isobox's exit_group prologue).
    Bpf(Vec<BpfInstruction>),
}

/// One rule of the user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    Allow,
    Deny(Errno),
    /// SECCOMP_RET_USER_NOTIF: the parent's [`Notifier`](super::notify::Notifier) decides.
    Notify,
}

impl Seccomp {
    /// The default profile (what a sandbox gets unless told otherwise): an allowlist in the
    /// spirit of Docker's, anything else answered with EPERM; `clone3` answers ENOSYS so
    /// that libc falls back to `clone`, whose namespace flags are refused.
    #[must_use]
    pub fn default_profile() -> Seccomp {
        Seccomp { base: Base::Profile, rules: Vec::new() }
    }

    /// **No filter: an explicit loosening.** The program may make every system call its
    /// capabilities allow, including those that create namespaces, mount, load kernel programs
    /// or trace other processes. Rules added with [`deny`](Self::deny) make it a deny-list
    /// (everything else allowed; on x86_64 the x32 ABI's numbers are denied too, as they
    /// would bypass it).
    #[must_use]
    pub fn none() -> Seccomp {
        Seccomp { base: Base::AllowAll, rules: Vec::new() }
    }

    /// A filter compiled elsewhere (libseccomp's `seccomp_export_bpf`, seccompiler's
    /// `BpfProgram`), installed as given. `build()` checks that it has 1 to 4090 instructions.
    ///
    /// isobox puts 6 instructions in front of it that allow `exit_group` on the build target's
    /// architecture, so that a sandbox whose exec fails can always end. Everything else is
    /// the program's to decide: it must allow `execve` for the program to start, and `write`
    /// for a failed exec to be reported as such (without it the sandbox reads as having exited
    /// with 127). A program killed by the filter shows in its
    /// [`ExitReport`](crate::ExitReport) (`killed_by_seccomp`).
    #[must_use]
    pub fn from_bpf(program: Vec<BpfInstruction>) -> Seccomp {
        Seccomp { base: Base::Bpf(program), rules: Vec::new() }
    }

    /// Allows system call `nr` (`libc::SYS_*`) with any arguments, over what the profile
    /// says: `allow(libc::SYS_clone)` allows every clone flag. A later rule for the same
    /// number replaces this one.
    #[must_use]
    pub fn allow(mut self, nr: i64) -> Seccomp {
        self.rules.push((nr, Rule::Allow));
        self
    }

    /// Answers system call `nr` (`libc::SYS_*`) with `-1` and `errno`, whatever its
    /// arguments. `execve`, `write` and `exit_group` are refused at `build()`: isobox makes
    /// them after the filter is installed. A later rule for the same number replaces this one.
    /// With [`notify`](Self::notify) rules as well, `read` of the go pipe's and `write` of the
    /// report pipe's descriptor numbers stay allowed for the whole life of the program (isobox
    /// makes them after the install), so a `deny` of `read` or `write` does not cover those two
    /// numbers.
    #[must_use]
    pub fn deny(mut self, nr: i64, errno: Errno) -> Seccomp {
        self.rules.push((nr, Rule::Deny(errno)));
        self
    }

    /// Hands system call `nr` (`libc::SYS_*`) to the caller: the program's call waits until
    /// the handler answers it through the spawned [`Child`](crate::Child)'s
    /// [`Notifier`](crate::Notifier) (`Child::take_notifier`), whatever the profile says of it.
    /// The filter is installed with SECCOMP_FILTER_FLAG_NEW_LISTENER and isobox hands the
    /// listener to the parent before exec; the program never holds it.
    ///
    /// `execve` and `exit_group` are refused at `build()` (isobox makes them after the filter
    /// is installed, before anyone can answer). With a notify rule the filter also allows,
    /// before anything else, `read` of the go pipe's and `write` of the report pipe's
    /// descriptor numbers (isobox's own last calls before exec): the program's reads and
    /// writes on those two numbers (closed at exec, but the program may reuse them) are never
    /// notified, and `read` and `write` then run the filter on every call. Dropping the
    /// notifier makes every notified call fail with ENOSYS. A later rule for the same number
    /// replaces this one.
    #[must_use]
    pub fn notify(mut self, nr: i64) -> Seccomp {
        self.rules.push((nr, Rule::Notify));
        self
    }

    /// The system calls the default profile allows with any arguments, by number.
    #[must_use]
    pub fn default_allowed() -> Vec<Syscall> {
        profile::allowed()
    }

    /// The system calls the default profile names as denied (EPERM), by number. Any number it
    /// neither allows nor restricts is denied too: EPERM up to the newest system call it
    /// knows, ENOSYS above (so that a libc falls back, as from an older kernel).
    #[must_use]
    pub fn default_denied() -> Vec<Syscall> {
        profile::denied()
    }

    /// The system calls the default profile allows only for some arguments or answers
    /// otherwise: `clone` (EPERM with a namespace flag), `clone3` (ENOSYS), `socket` (EPERM
    /// for AF_VSOCK), `ioctl` (EPERM for TIOCSTI and TIOCLINUX) and `personality` (EPERM but
    /// for PER_LINUX, PER_LINUX32, either with UNAME26, and the query 0xffffffff).
    #[must_use]
    pub fn default_restricted() -> Vec<Syscall> {
        profile::RESTRICTED.to_vec()
    }

    pub(crate) fn base(&self) -> &Base {
        &self.base
    }

    pub(crate) fn rules(&self) -> &[(i64, Rule)] {
        &self.rules
    }
}

impl Default for Seccomp {
    /// [`Seccomp::default_profile`].
    fn default() -> Seccomp {
        Seccomp::default_profile()
    }
}

/// One classic BPF instruction, laid out as the kernel's `struct sock_filter` (and
/// `libc::sock_filter`, which converts both ways).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BpfInstruction {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

impl BpfInstruction {
    /// An instruction: opcode, jump offsets if true and if false, and the constant.
    #[must_use]
    pub const fn new(code: u16, jt: u8, jf: u8, k: u32) -> BpfInstruction {
        BpfInstruction { code, jt, jf, k }
    }

    /// One instruction from its 8 bytes in native byte order, as libseccomp's
    /// `seccomp_export_bpf` writes them.
    #[must_use]
    pub const fn from_ne_bytes(b: [u8; 8]) -> BpfInstruction {
        let code = u16::from_ne_bytes([b[0], b[1]]);
        BpfInstruction { code, jt: b[2], jf: b[3], k: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]) }
    }

    /// The opcode.
    #[must_use]
    pub const fn code(&self) -> u16 {
        self.code
    }

    /// How many instructions forward a true conditional jump goes.
    #[must_use]
    pub const fn jt(&self) -> u8 {
        self.jt
    }

    /// How many instructions forward a false conditional jump goes.
    #[must_use]
    pub const fn jf(&self) -> u8 {
        self.jf
    }

    /// The constant.
    #[must_use]
    pub const fn k(&self) -> u32 {
        self.k
    }
}

impl From<libc::sock_filter> for BpfInstruction {
    fn from(f: libc::sock_filter) -> BpfInstruction {
        BpfInstruction { code: f.code, jt: f.jt, jf: f.jf, k: f.k }
    }
}

impl From<BpfInstruction> for libc::sock_filter {
    fn from(i: BpfInstruction) -> libc::sock_filter {
        libc::sock_filter { code: i.code, jt: i.jt, jf: i.jf, k: i.k }
    }
}
