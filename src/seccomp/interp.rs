//! A tiny classic-BPF interpreter (**parent**): runs a program over one `seccomp_data` as the
//! kernel would and returns its verdict, checking on the way what the kernel's checker would
//! refuse (a jump out of the program, an unknown opcode, a load out of `seccomp_data` or
//! unaligned, falling off the end). The tests run isobox's own programs through it; a pool
//! asks it whether a filter allows its waiter's calls, and an instruction it does not know
//! (a user's program may use any) makes that answer "cannot tell".

use libc::sock_filter;

use super::bpf;

/// What the filter sees of one system call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call {
    pub nr: i32,
    pub arch: u32,
    pub args: [u64; 6],
}

impl Call {
    /// `nr` on the build target's arch with these arguments (the rest 0).
    pub fn native(nr: i64, args: &[u64]) -> Call {
        let mut all = [0; 6];
        all[..args.len()].copy_from_slice(args);
        Call { nr: nr as i32, arch: bpf::AUDIT_ARCH, args: all }
    }

    fn bytes(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        b[0..4].copy_from_slice(&self.nr.to_ne_bytes());
        b[4..8].copy_from_slice(&self.arch.to_ne_bytes());
        b[8..16].copy_from_slice(&0x7000_1234u64.to_ne_bytes()); // instruction_pointer
        for (i, arg) in self.args.iter().enumerate() {
            b[16 + 8 * i..24 + 8 * i].copy_from_slice(&arg.to_ne_bytes());
        }
        b
    }
}

/// The verdict and how many instructions the run took, or what the run could not follow.
pub(crate) fn try_run_counting(program: &[sock_filter], call: &Call) -> Result<(u32, usize), String> {
    let data = call.bytes();
    let (mut a, mut pc, mut steps) = (0u32, 0usize, 0usize);
    loop {
        let insn = program.get(pc).ok_or_else(|| format!("ran off the program at {pc}"))?;
        steps += 1;
        let next = pc + 1;
        let cond = |taken: bool| next + usize::from(if taken { insn.jt } else { insn.jf });
        pc = match insn.code {
            bpf::LD_ABS => {
                let k = insn.k as usize;
                if k % 4 != 0 || k + 4 > data.len() {
                    return Err(format!("load at {k}"));
                }
                a = u32::from_ne_bytes([data[k], data[k + 1], data[k + 2], data[k + 3]]);
                next
            }
            bpf::LD_IMM => {
                a = insn.k;
                next
            }
            bpf::AND_K => {
                a &= insn.k;
                next
            }
            bpf::RET_K => return Ok((insn.k, steps)),
            bpf::JA => next.saturating_add(insn.k as usize),
            bpf::JEQ => cond(a == insn.k),
            bpf::JGE => cond(a >= insn.k),
            bpf::JGT => cond(a > insn.k),
            bpf::JSET => cond(a & insn.k != 0),
            code => return Err(format!("opcode {code:#x} at {pc}")),
        };
        if pc >= program.len() {
            return Err(format!("jump out of the program to {pc}"));
        }
    }
}

/// The verdict and how many instructions the run took (tests: a program isobox made must run).
#[cfg(test)]
pub(crate) fn run_counting(program: &[sock_filter], call: &Call) -> (u32, usize) {
    try_run_counting(program, call).unwrap_or_else(|e| panic!("{e}"))
}

/// The verdict of `program` for `call`.
#[cfg(test)]
pub(crate) fn run(program: &[sock_filter], call: &Call) -> u32 {
    run_counting(program, call).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_masked_compare_is_followed() {
        // (arg0 & 0xff00) == 0x1200 ? ALLOW : ERRNO
        let program = [
            bpf::load(bpf::arg_low(0)),
            sock_filter { code: bpf::AND_K, jt: 0, jf: 0, k: 0xff00 },
            bpf::jump(bpf::JEQ, 0x1200, 0, 1),
            bpf::ret(bpf::RET_ALLOW),
            bpf::ret(bpf::ret_errno(1)),
        ];
        assert_eq!(run(&program, &Call::native(0, &[0x12ab])), bpf::RET_ALLOW);
        assert_eq!(run(&program, &Call::native(0, &[0x13ab])), bpf::ret_errno(1));
    }
}
