//! Classic BPF as seccomp runs it (**parent**): instruction constructors, return values, and
//! where `struct seccomp_data` keeps each field.

use libc::sock_filter;

/// BPF_MAXINSNS: the most instructions the kernel takes in one filter.
pub(crate) const MAX_INSNS: usize = libc::BPF_MAXINSNS as usize;

/// The build target's AUDIT_ARCH (linux/audit.h: the ELF machine, 64-bit, little-endian).
#[cfg(target_arch = "x86_64")]
pub(crate) const AUDIT_ARCH: u32 = 0xC000_003E;
/// The build target's AUDIT_ARCH (linux/audit.h: the ELF machine, 64-bit, little-endian).
#[cfg(target_arch = "aarch64")]
pub(crate) const AUDIT_ARCH: u32 = 0xC000_00B7;

/// x86_64's __X32_SYSCALL_BIT: numbers from here on are the x32 ABI's, a second table. Also the
/// bound of the numbers a rule may name on either target.
pub(crate) const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// Offsets into `struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }`.
pub(crate) const NR: u32 = 0;
pub(crate) const ARCH: u32 = 4;

/// The offset of the low 32 bits of argument `i`.
pub(crate) const fn arg_low(i: u8) -> u32 {
    let high_first = if cfg!(target_endian = "big") { 4 } else { 0 };
    16 + 8 * i as u32 + high_first
}

pub(crate) const LD_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
pub(crate) const LD_IMM: u16 = (libc::BPF_LD | libc::BPF_IMM) as u16;
pub(crate) const RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
pub(crate) const JA: u16 = (libc::BPF_JMP | libc::BPF_JA) as u16;
pub(crate) const JEQ: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
pub(crate) const JGE: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
pub(crate) const JSET: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;
pub(crate) const JGT: u16 = (libc::BPF_JMP | libc::BPF_JGT | libc::BPF_K) as u16;
/// `A &= k` (a masked argument compare, as libseccomp and OCI runtimes' compilers emit).
pub(crate) const AND_K: u16 = (libc::BPF_ALU | libc::BPF_AND | libc::BPF_K) as u16;

/// A = the 32-bit word at `offset` of seccomp_data.
pub(crate) const fn load(offset: u32) -> sock_filter {
    sock_filter { code: LD_ABS, jt: 0, jf: 0, k: offset }
}

/// A = `value`.
pub(crate) const fn load_imm(value: u32) -> sock_filter {
    sock_filter { code: LD_IMM, jt: 0, jf: 0, k: value }
}

/// Returns `value` (a SECCOMP_RET_* action with its data).
pub(crate) const fn ret(value: u32) -> sock_filter {
    sock_filter { code: RET_K, jt: 0, jf: 0, k: value }
}

/// A conditional jump on A against `k`: `jt` or `jf` instructions forward.
pub(crate) const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// Jumps `offset` instructions forward unconditionally (32 bits of offset).
pub(crate) const fn ja(offset: u32) -> sock_filter {
    sock_filter { code: JA, jt: 0, jf: 0, k: offset }
}

pub(crate) const RET_ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
pub(crate) const RET_KILL_PROCESS: u32 = libc::SECCOMP_RET_KILL_PROCESS;
pub(crate) const RET_USER_NOTIF: u32 = libc::SECCOMP_RET_USER_NOTIF;

/// SECCOMP_RET_ERRNO with `errno` as its data.
pub(crate) const fn ret_errno(errno: u16) -> u32 {
    libc::SECCOMP_RET_ERRNO | errno as u32
}
