//! The init's raw system calls (x86_64 and aarch64).

/// System call numbers.
#[cfg(target_arch = "x86_64")]
pub mod nr {
    pub const WRITE: usize = 1;
    pub const CLOSE: usize = 3;
    pub const RT_SIGPROCMASK: usize = 14;
    pub const KILL: usize = 62;
    pub const WAIT4: usize = 61;
    pub const PRCTL: usize = 157;
    pub const RT_SIGTIMEDWAIT: usize = 128;
    pub const EXIT_GROUP: usize = 231;
}

/// System call numbers (the generic table).
#[cfg(target_arch = "aarch64")]
pub mod nr {
    pub const WRITE: usize = 64;
    pub const CLOSE: usize = 57;
    pub const RT_SIGPROCMASK: usize = 135;
    pub const KILL: usize = 129;
    pub const WAIT4: usize = 260;
    pub const PRCTL: usize = 167;
    pub const RT_SIGTIMEDWAIT: usize = 137;
    pub const EXIT_GROUP: usize = 94;
}

#[path = "../syscall6.rs"]
mod syscall6;

/// One system call; returns the kernel's result (`-errno` on failure).
pub fn call(nr: usize, a: [usize; 6]) -> isize {
    // SAFETY: every pointer argument this program's callers pass points into its own stack,
    // statics or mappings, valid for the call's use.
    unsafe { syscall6::syscall6(nr as i64, a) }
}

pub fn exit(code: i32) -> ! {
    loop {
        call(nr::EXIT_GROUP, [code as usize, 0, 0, 0, 0, 0]);
    }
}

const ALL: u64 = !0;
const SIGSET_SIZE: usize = 8;

/// Blocks every signal (the first process already did; this keeps it so whatever ran before).
pub fn block_all_signals() {
    let set = ALL;
    call(nr::RT_SIGPROCMASK, [0 /* SIG_BLOCK */, &set as *const u64 as usize, 0, SIGSET_SIZE, 0, 0]);
}

/// Waits for the next signal; returns its number, or `-errno`.
pub fn wait_signal() -> isize {
    let set = ALL;
    let mut info = [0u64; 16]; // siginfo_t is 128 bytes
    call(nr::RT_SIGTIMEDWAIT, [&set as *const u64 as usize, info.as_mut_ptr() as usize, 0, SIGSET_SIZE, 0, 0])
}

/// The init's own filter: its calls, and the arch it runs on.
#[cfg(target_arch = "x86_64")]
pub mod filter {
    pub const ARCH: u32 = 0xc000_003e; // AUDIT_ARCH_X86_64
    pub const SECCOMP: usize = 317;
    pub const RESTART_SYSCALL: usize = 219;
}

/// The init's own filter: its calls, and the arch it runs on.
#[cfg(target_arch = "aarch64")]
pub mod filter {
    pub const ARCH: u32 = 0xc000_00b7; // AUDIT_ARCH_AARCH64
    pub const SECCOMP: usize = 277;
    pub const RESTART_SYSCALL: usize = 128;
}

/// More system call numbers, for the waiter.
#[cfg(target_arch = "x86_64")]
pub mod nr2 {
    pub const READ: usize = 0;
    pub const MMAP: usize = 9;
    pub const RECVMSG: usize = 47;
    pub const EXECVE: usize = 59;
    pub const CHDIR: usize = 80;
    pub const DUP3: usize = 292;
    pub const PRLIMIT64: usize = 302;
    pub const CLOSE_RANGE: usize = 436;
    pub const PPOLL: usize = 271;
    pub const FACCESSAT: usize = 269;
    pub const SIGNALFD4: usize = 289;
}

/// More system call numbers, for the waiter (the generic table).
#[cfg(target_arch = "aarch64")]
pub mod nr2 {
    pub const READ: usize = 63;
    pub const MMAP: usize = 222;
    pub const RECVMSG: usize = 212;
    pub const EXECVE: usize = 221;
    pub const CHDIR: usize = 49;
    pub const DUP3: usize = 24;
    pub const PRLIMIT64: usize = 261;
    pub const CLOSE_RANGE: usize = 436;
    pub const PPOLL: usize = 73;
    pub const FACCESSAT: usize = 48;
    pub const SIGNALFD4: usize = 74;
}

#[repr(C)]
#[derive(Clone, Copy)]
struct SockFilter {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const SockFilter,
}

/// Restricts the init to the calls it makes (`allowed`); anything else kills it, and with it
/// the sandbox. A program that kept CAP_SYS_PTRACE can write into the init's memory; filtered,
/// the init then can do nothing the sandbox's own filter would refuse. A kernel without
/// seccomp leaves it unfiltered, as it leaves the program.
pub fn restrict_to<const N: usize>(allowed: &[usize; N]) {
    const LD_ABS: u16 = 0x20;
    const JEQ: u16 = 0x15;
    const RET: u16 = 0x06;
    const ALLOW: u32 = 0x7fff_0000;
    const KILL_PROCESS: u32 = 0x8000_0000;
    const MAX: usize = 11;
    if N > MAX {
        exit(127); // a caller's mistake, never a running init's: each list is fixed
    }
    let insn = |code, jt, jf, k| SockFilter { code, jt, jf, k };
    // 0 arch, 1 arch check, 2 nr, 3..3+N one check each, then kill, then allow.
    let mut program = [insn(RET, 0, 0, KILL_PROCESS); MAX + 5];
    program[0] = insn(LD_ABS, 0, 0, 4);
    program[1] = insn(JEQ, 0, (N + 1) as u8, filter::ARCH);
    program[2] = insn(LD_ABS, 0, 0, 0);
    for (i, nr) in allowed.iter().enumerate() {
        program[3 + i] = insn(JEQ, (N - i) as u8, 0, *nr as u32);
    }
    program[3 + N] = insn(RET, 0, 0, KILL_PROCESS);
    program[4 + N] = insn(RET, 0, 0, ALLOW);
    let program = &program[..N + 5];
    let prog = SockFprog { len: program.len() as u16, filter: program.as_ptr() };
    call(nr::PRCTL, [38 /* PR_SET_NO_NEW_PRIVS */, 1, 0, 0, 0, 0]);
    call(filter::SECCOMP, [1 /* SECCOMP_SET_MODE_FILTER */, 0, &prog as *const SockFprog as usize, 0, 0, 0]);
}
