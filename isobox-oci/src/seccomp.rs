//! `linux.seccomp` compiled to classic BPF for `Seccomp::from_bpf`: the build target's
//! architecture only (any other, and on x86_64 the x32 ABI, is refused by the filter), then
//! for each system call named, its rules in order (every argument condition, 64 bits wide,
//! must hold), then the default action. System call names this target does not have are
//! skipped, as libseccomp does. Actions: ALLOW, ERRNO, KILL (thread), KILL_PROCESS, TRAP,
//! LOG, TRACE; NOTIFY is refused (it needs a listener agent).

use std::collections::BTreeMap;

use isobox::{BpfInstruction, Seccomp};
use serde::Deserialize;
use serde_json::Value;

use crate::error::OciError;
use crate::spec::Other;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    default_action: String,
    default_errno_ret: Option<u32>,
    #[serde(default)]
    architectures: Vec<String>,
    #[serde(default)]
    flags: Vec<String>,
    listener_path: Option<String>,
    #[serde(default)]
    syscalls: Vec<Rule>,
    #[serde(flatten)]
    other: Other,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    #[serde(default)]
    names: Vec<String>,
    action: String,
    errno_ret: Option<u32>,
    #[serde(default)]
    args: Vec<Arg>,
    #[serde(flatten)]
    other: Other,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Arg {
    index: u32,
    value: u64,
    #[serde(default)]
    value_two: u64,
    op: String,
}

const NATIVE_ARCH: &str = if cfg!(target_arch = "aarch64") { "SCMP_ARCH_AARCH64" } else { "SCMP_ARCH_X86_64" };
const AUDIT_ARCH: u32 = if cfg!(target_arch = "aarch64") { 0xC000_00B7 } else { 0xC000_003E };
const EPERM: u32 = 1;
const ENOSYS: u32 = 38;

// Classic BPF opcodes.
const LD_ABS: u16 = 0x20;
const AND_K: u16 = 0x54;
const JA: u16 = 0x05;
const JEQ: u16 = 0x15;
const JGT: u16 = 0x25;
const JGE: u16 = 0x35;
const RET_K: u16 = 0x06;

/// The filter for the config's profile.
pub fn compile(profile: &Value) -> Result<Seccomp, OciError> {
    let p: Profile =
        serde_json::from_value(profile.clone()).map_err(|e| OciError::invalid("linux.seccomp", e.to_string()))?;
    crate::map::unknown("linux.seccomp.", &p.other)?;
    if !p.architectures.is_empty() && !p.architectures.iter().any(|a| a == NATIVE_ARCH) {
        return Err(OciError::unsupported(
            "linux.seccomp.architectures",
            format!("they do not list {NATIVE_ARCH}, this host's"),
        ));
    }
    if let Some(flag) = p.flags.first() {
        return Err(OciError::unsupported(
            format!("linux.seccomp.flags {flag}"),
            "isobox installs filters without flags",
        ));
    }
    if p.listener_path.is_some() || p.default_action == "SCMP_ACT_NOTIFY" {
        return Err(OciError::unsupported("linux.seccomp notify", "isobox-oci has no seccomp agent"));
    }
    let default = action(&p.default_action, p.default_errno_ret, "linux.seccomp.defaultAction")?;
    let table = syscall_numbers();
    let mut by_nr: BTreeMap<i64, Vec<(u32, Vec<Arg>)>> = BTreeMap::new();
    for (i, rule) in p.syscalls.iter().enumerate() {
        crate::map::unknown(&format!("linux.seccomp.syscalls[{i}]."), &rule.other)?;
        let verdict = action(&rule.action, rule.errno_ret, &format!("linux.seccomp.syscalls[{i}].action"))?;
        if verdict == default && rule.args.is_empty() {
            continue; // says what the default says
        }
        for a in &rule.args {
            if a.index > 5 {
                return Err(OciError::invalid(
                    format!("linux.seccomp.syscalls[{i}].args"),
                    format!("index {} (0 to 5)", a.index),
                ));
            }
            op_of(&a.op).ok_or_else(|| {
                OciError::invalid(format!("linux.seccomp.syscalls[{i}].args"), format!("op {:?}", a.op))
            })?;
        }
        for name in &rule.names {
            if let Some(nr) = table.get(name.as_str()) {
                by_nr.entry(*nr).or_default().push((verdict, rule.args.clone()));
            }
        }
    }
    let program = emit(&by_nr, default)?;
    Ok(Seccomp::from_bpf(program))
}

fn action(name: &str, errno: Option<u32>, field: &str) -> Result<u32, OciError> {
    let data = |default: u32| errno.unwrap_or(default) & 0xffff;
    Ok(match name {
        "SCMP_ACT_ALLOW" => 0x7fff_0000,
        "SCMP_ACT_ERRNO" => 0x0005_0000 | data(EPERM),
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => 0,
        "SCMP_ACT_KILL_PROCESS" => 0x8000_0000,
        "SCMP_ACT_TRAP" => 0x0003_0000,
        "SCMP_ACT_LOG" => 0x7ffc_0000,
        "SCMP_ACT_TRACE" => 0x7ff0_0000 | data(EPERM),
        other => return Err(OciError::unsupported(format!("{field} {other}"), "not an action isobox-oci compiles")),
    })
}

/// Every system call of the build target the library knows, by name.
fn syscall_numbers() -> BTreeMap<&'static str, i64> {
    Seccomp::default_allowed()
        .into_iter()
        .chain(Seccomp::default_denied())
        .chain(Seccomp::default_restricted())
        .map(|s| (s.name(), s.number()))
        .collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    MaskedEq,
}

fn op_of(op: &str) -> Option<Op> {
    Some(match op {
        "SCMP_CMP_EQ" => Op::Eq,
        "SCMP_CMP_NE" => Op::Ne,
        "SCMP_CMP_LT" => Op::Lt,
        "SCMP_CMP_LE" => Op::Le,
        "SCMP_CMP_GT" => Op::Gt,
        "SCMP_CMP_GE" => Op::Ge,
        "SCMP_CMP_MASKED_EQ" => Op::MaskedEq,
        _ => return None,
    })
}

/// A jump target while the program is laid out: the next rule (a condition failed) or the
/// next condition (this one held).
#[derive(Clone, Copy)]
enum To {
    Here,
    Fail,
    Pass,
}

/// One instruction whose conditional targets are still symbolic.
struct Insn {
    code: u16,
    k: u32,
    jt: To,
    jf: To,
}

fn ins(code: u16, k: u32) -> Insn {
    Insn { code, k, jt: To::Here, jf: To::Here }
}

fn jmp(code: u16, k: u32, jt: To, jf: To) -> Insn {
    Insn { code, k, jt, jf }
}

fn emit(by_nr: &BTreeMap<i64, Vec<(u32, Vec<Arg>)>>, default: u32) -> Result<Vec<BpfInstruction>, OciError> {
    let mut out = vec![
        BpfInstruction::new(LD_ABS, 0, 0, 4), // arch
        BpfInstruction::new(JEQ, 1, 0, AUDIT_ARCH),
        BpfInstruction::new(RET_K, 0, 0, 0x8000_0000), // another architecture: kill
        BpfInstruction::new(LD_ABS, 0, 0, 0),          // nr
    ];
    if cfg!(target_arch = "x86_64") {
        // The x32 ABI's numbers would slip past the x86_64 ones.
        out.push(BpfInstruction::new(JGE, 0, 1, 0x4000_0000));
        out.push(BpfInstruction::new(RET_K, 0, 0, 0x0005_0000 | ENOSYS));
    }
    for (nr, rules) in by_nr {
        let block = syscall_block(rules, default)?;
        out.push(BpfInstruction::new(JEQ, 1, 0, *nr as u32));
        out.push(BpfInstruction::new(JA, 0, 0, block.len() as u32));
        out.extend(block);
    }
    out.push(BpfInstruction::new(RET_K, 0, 0, default));
    if out.len() > 4090 {
        return Err(OciError::unsupported(
            "linux.seccomp",
            format!("{} BPF instructions (the kernel takes 4096)", out.len()),
        ));
    }
    Ok(out)
}

/// One system call's rules in order, each its conditions then its verdict; the default
/// after them. The number is reloaded after each rule whose conditions loaded arguments.
fn syscall_block(rules: &[(u32, Vec<Arg>)], default: u32) -> Result<Vec<BpfInstruction>, OciError> {
    let mut block = Vec::new();
    for (verdict, args) in rules {
        let mut conds: Vec<Vec<Insn>> = args.iter().map(condition).collect();
        if conds.is_empty() {
            block.push(BpfInstruction::new(RET_K, 0, 0, *verdict));
            return Ok(block); // nothing after it can be reached
        }
        // The rule: each condition falls through on success; a failure jumps past the verdict.
        let total: usize = conds.iter().map(Vec::len).sum::<usize>() + 1;
        let mut at = 0;
        for cond in conds.iter_mut() {
            let len = cond.len();
            for (i, insn) in cond.iter().enumerate() {
                let pos = at + i;
                let resolve = |to: To| -> Result<u8, OciError> {
                    let target = match to {
                        To::Here => pos + 1,
                        To::Pass => at + len,
                        To::Fail => total,
                    };
                    u8::try_from(target - pos - 1).map_err(|_| {
                        OciError::unsupported("linux.seccomp", "a rule with conditions too long for BPF's jumps")
                    })
                };
                block.push(BpfInstruction::new(insn.code, resolve(insn.jt)?, resolve(insn.jf)?, insn.k));
            }
            at += len;
        }
        block.push(BpfInstruction::new(RET_K, 0, 0, *verdict));
        block.push(BpfInstruction::new(LD_ABS, 0, 0, 0)); // the number again, for what follows
    }
    block.push(BpfInstruction::new(RET_K, 0, 0, default));
    Ok(block)
}

/// A 64-bit compare of one argument: falls through when it holds, jumps to `Fail` when not.
fn condition(a: &Arg) -> Vec<Insn> {
    let (lo_at, hi_at) = (16 + 8 * a.index, 16 + 8 * a.index + 4);
    let (v_lo, v_hi) = (a.value as u32, (a.value >> 32) as u32);
    let ld = |at| ins(LD_ABS, at);
    match op_of(&a.op).expect("checked") {
        Op::Eq => vec![ld(hi_at), jmp(JEQ, v_hi, To::Here, To::Fail), ld(lo_at), jmp(JEQ, v_lo, To::Here, To::Fail)],
        Op::Ne => vec![ld(hi_at), jmp(JEQ, v_hi, To::Here, To::Pass), ld(lo_at), jmp(JEQ, v_lo, To::Fail, To::Here)],
        Op::MaskedEq => {
            let (m_lo, m_hi) = (a.value as u32, (a.value >> 32) as u32);
            let (w_lo, w_hi) = (a.value_two as u32, (a.value_two >> 32) as u32);
            vec![
                ld(hi_at),
                ins(AND_K, m_hi),
                jmp(JEQ, w_hi, To::Here, To::Fail),
                ld(lo_at),
                ins(AND_K, m_lo),
                jmp(JEQ, w_lo, To::Here, To::Fail),
            ]
        }
        // arg > v (or >=): the high words decide unless equal, then the low ones.
        Op::Gt | Op::Ge | Op::Lt | Op::Le => {
            let op = op_of(&a.op).expect("checked");
            let (yes, no) = if matches!(op, Op::Gt | Op::Ge) { (To::Pass, To::Fail) } else { (To::Fail, To::Pass) };
            let low = if matches!(op, Op::Gt | Op::Le) { JGT } else { JGE };
            vec![
                ld(hi_at),
                jmp(JGT, v_hi, yes, To::Here),
                jmp(JEQ, v_hi, To::Here, no),
                ld(lo_at),
                jmp(low, v_lo, yes, no),
            ]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Runs `program` over one call as the kernel would (the opcodes emitted here).
    fn run(program: &[BpfInstruction], nr: i64, args: [u64; 6]) -> u32 {
        let mut data = [0u32; 16];
        data[0] = nr as u32;
        data[1] = AUDIT_ARCH;
        for (i, a) in args.iter().enumerate() {
            data[4 + 2 * i] = *a as u32;
            data[5 + 2 * i] = (*a >> 32) as u32;
        }
        let (mut acc, mut pc) = (0u32, 0usize);
        loop {
            let i = program[pc];
            let next = pc + 1;
            let cond = |t: bool| next + usize::from(if t { i.jt() } else { i.jf() });
            pc = match i.code() {
                LD_ABS => {
                    acc = data[i.k() as usize / 4];
                    next
                }
                AND_K => {
                    acc &= i.k();
                    next
                }
                JA => next + i.k() as usize,
                JEQ => cond(acc == i.k()),
                JGT => cond(acc > i.k()),
                JGE => cond(acc >= i.k()),
                RET_K => return i.k(),
                c => panic!("opcode {c:#x}"),
            };
        }
    }

    fn filter(profile: Value) -> Vec<BpfInstruction> {
        let p: Profile = serde_json::from_value(profile).unwrap();
        let table = syscall_numbers();
        let default = action(&p.default_action, p.default_errno_ret, "d").unwrap();
        let mut by_nr: BTreeMap<i64, Vec<(u32, Vec<Arg>)>> = BTreeMap::new();
        for r in &p.syscalls {
            for n in &r.names {
                if let Some(nr) = table.get(n.as_str()) {
                    by_nr.entry(*nr).or_default().push((action(&r.action, r.errno_ret, "a").unwrap(), r.args.clone()));
                }
            }
        }
        emit(&by_nr, default).unwrap()
    }

    const ALLOW: u32 = 0x7fff_0000;
    const ERRNO_EPERM: u32 = 0x0005_0001;

    #[test]
    fn a_default_deny_profile_allows_what_it_names_and_nothing_else() {
        let p = filter(json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["read", "write", "no_such_call"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}));
        assert_eq!(run(&p, libc::SYS_read, [0; 6]), ALLOW);
        assert_eq!(run(&p, libc::SYS_write, [0; 6]), ALLOW);
        assert_eq!(run(&p, libc::SYS_mkdirat, [0; 6]), 0x0005_000d);
        assert_eq!(run(&p, libc::SYS_getpid, [0; 6]), ERRNO_EPERM);
        assert_eq!(run(&p, 0x4000_0000 | libc::SYS_read, [0; 6]), 0x0005_0000 | ENOSYS, "x32 refused");
    }

    #[test]
    fn argument_conditions_compare_all_64_bits() {
        let p = filter(json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0xffff_ffff_u64, "op": "SCMP_CMP_EQ"}]},
            {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0x7E02_0000_u64, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}]},
            {"names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 10, "op": "SCMP_CMP_LT"}, {"index": 1, "value": 2, "op": "SCMP_CMP_GE"}]}]}));
        assert_eq!(run(&p, libc::SYS_personality, [8, 0, 0, 0, 0, 0]), ALLOW);
        assert_eq!(run(&p, libc::SYS_personality, [0xffff_ffff, 0, 0, 0, 0, 0]), ALLOW);
        assert_eq!(run(&p, libc::SYS_personality, [0x1_0000_0008, 0, 0, 0, 0, 0]), ERRNO_EPERM, "the high word counts");
        assert_eq!(run(&p, libc::SYS_clone, [0x0011, 0, 0, 0, 0, 0]), ALLOW);
        assert_eq!(run(&p, libc::SYS_clone, [libc::CLONE_NEWNS as u64, 0, 0, 0, 0, 0]), ERRNO_EPERM);
        assert_eq!(run(&p, libc::SYS_socket, [2, 0, 0, 0, 0, 0]), ALLOW);
        assert_eq!(run(&p, libc::SYS_socket, [40, 0, 0, 0, 0, 0]), ERRNO_EPERM);
        assert_eq!(run(&p, libc::SYS_socket, [40 | (1 << 32), 0, 0, 0, 0, 0]), ALLOW);
        for (sig, want) in [(1, ERRNO_EPERM), (2, ALLOW), (9, ALLOW), (10, ERRNO_EPERM), (1 << 33, ERRNO_EPERM)] {
            assert_eq!(run(&p, libc::SYS_kill, [0, sig, 0, 0, 0, 0]), want, "kill signal {sig}");
        }
    }

    #[test]
    fn a_default_allow_profile_denies_what_it_names() {
        let p = filter(json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["mount"], "action": "SCMP_ACT_KILL_PROCESS"}]}));
        assert_eq!(run(&p, libc::SYS_mount, [0; 6]), 0x8000_0000);
        assert_eq!(run(&p, libc::SYS_getpid, [0; 6]), ALLOW);
    }

    #[test]
    fn what_cannot_be_compiled_is_refused() {
        let refused = |p: Value| compile(&p).unwrap_err().to_string();
        assert!(refused(json!({"defaultAction": "SCMP_ACT_NOTIFY"})).contains("notify"));
        assert!(refused(json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_PPC64"]}))
            .contains("architectures"));
        assert!(refused(json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 7, "value": 0, "op": "SCMP_CMP_EQ"}]}]})).contains("index 7"));
        assert!(
            refused(json!({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_LOG"]})).contains("flags")
        );
    }
}
