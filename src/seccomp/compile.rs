//! isobox's own seccomp compiler (**parent**, once at `build()`): a verdict for every system-call
//! number becomes sorted ranges of numbers with the same verdict, and those a balanced binary
//! tree of `JGE` jumps whose leaves return.
//!
//! The program: load `arch`, KILL_PROCESS unless it is the build target's; load `nr`; the
//! tree. A run through it is about log2(ranges) + 5 instructions, which is what the kernel
//! pays for each system call number when it fills its constant-verdict cache at install
//! (`notes/next.md` §1.3: ~90 instructions install in ~35 µs, a linear chain in ~750 µs).
//! Leaves that check an argument read only its low 32 bits, which is all the kernel reads of
//! the arguments checked here.
//!
//! Leaves jump to one shared return instruction per verdict after the tree,
//! which keeps the program (and the kernel's JIT work at install) short. BPF's conditional
//! jumps reach only 255 instructions forward, so with many ranges (a long list of user rules)
//! every leaf is laid out in line instead, and a tree node whose left half is longer than
//! that jumps to its right half with an unconditional `JA` (32-bit offset).

use std::collections::{BTreeMap, BTreeSet};

use libc::sock_filter;

use super::bpf::{self, ja, jump, load, load_imm, ret};

/// What a leaf returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Allow,
    /// ERRNO with this errno (1 to 4095).
    Errno(u16),
    /// USER_NOTIF: the listener's holder answers.
    Notify,
}

impl Action {
    fn ret(self) -> u32 {
        match self {
            Action::Allow => bpf::RET_ALLOW,
            Action::Errno(errno) => bpf::ret_errno(errno),
            Action::Notify => bpf::RET_USER_NOTIF,
        }
    }
}

/// A test on the low 32 bits of one argument.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ArgTest {
    /// Any of these bits is set.
    AnyBit(u32),
    /// Equal to one of these values (a handful).
    OneOf(&'static [u32]),
}

/// A verdict that depends on one argument.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ArgRule {
    /// Which argument (0 to 5).
    pub arg: u8,
    pub test: ArgTest,
    pub matched: Action,
    pub otherwise: Action,
}

/// The verdict for one system-call number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Is(Action),
    Check(&'static ArgRule),
}

/// A verdict for every number: those listed, then `tail` (sorted starts: from each start on,
/// its verdict), then `default` for the rest.
#[derive(Debug)]
pub(crate) struct Policy {
    pub listed: BTreeMap<u32, Verdict>,
    pub tail: Vec<(u32, Verdict)>,
    pub default: Verdict,
}

impl Policy {
    fn at(&self, nr: u32) -> Verdict {
        let tail = self.tail.iter().rev().find(|(start, _)| *start <= nr).map(|(_, v)| *v);
        self.listed.get(&nr).copied().or(tail).unwrap_or(self.default)
    }
}

/// The policy as ranges: each `(start, verdict)` holds from `start` to the next start (the last
/// to 2^32 - 1). Starts ascend from 0; neighbours differ.
pub(crate) fn ranges(policy: &Policy) -> Vec<(u32, Verdict)> {
    let mut bounds: BTreeSet<u32> = policy.tail.iter().map(|(start, _)| *start).collect();
    bounds.insert(0);
    for &nr in policy.listed.keys() {
        bounds.insert(nr);
        bounds.extend(nr.checked_add(1));
    }
    let mut ranges: Vec<(u32, Verdict)> = Vec::new();
    for start in bounds {
        let verdict = policy.at(start);
        if ranges.last().map_or(true, |(_, last)| *last != verdict) {
            ranges.push((start, verdict));
        }
    }
    ranges
}

/// The whole program for `policy`: the arch check, the number, the tree.
pub(crate) fn program(policy: &Policy) -> Vec<sock_filter> {
    let mut program =
        vec![load(bpf::ARCH), jump(bpf::JEQ, bpf::AUDIT_ARCH, 1, 0), ret(bpf::RET_KILL_PROCESS), load(bpf::NR)];
    let ranges = ranges(policy);
    let returns = shared_returns(&ranges);
    match compact(&ranges, 0, &returns) {
        Some(tree) => {
            program.extend(tree);
            program.extend(returns.iter().map(|value| ret(*value)));
        }
        None => program.extend(tree(&ranges)),
    }
    program
}

/// Every leaf's return values, once each, in order of first use.
fn shared_returns(ranges: &[(u32, Verdict)]) -> Vec<u32> {
    let mut returns = Vec::new();
    for (_, verdict) in ranges {
        let actions = match verdict {
            Verdict::Is(action) => [Some(*action), None],
            Verdict::Check(rule) => [Some(rule.matched), Some(rule.otherwise)],
        };
        for value in actions.into_iter().flatten().map(Action::ret) {
            if !returns.contains(&value) {
                returns.push(value);
            }
        }
    }
    returns
}

/// One half below a tree node: a jump straight to a shared return, or code.
enum Half {
    Return(usize),
    Code(Vec<sock_filter>),
}

impl Half {
    fn len(&self) -> usize {
        match self {
            Half::Return(_) => 0,
            Half::Code(code) => code.len(),
        }
    }
}

/// The compact tree: a node whose half is a plain verdict jumps straight to its return among
/// `returns`, which follow the tree `after` instructions after this subtree. `None` when a jump
/// would be longer than 255 (many ranges): then [`tree`] does it.
fn compact(ranges: &[(u32, Verdict)], after: usize, returns: &[u32]) -> Option<Vec<sock_filter>> {
    match ranges {
        [(_, Verdict::Check(rule))] => return compact_check(rule, after, returns),
        [(_, verdict)] => return Some(leaf(*verdict)),
        _ => {}
    }
    let half = |ranges: &[(u32, Verdict)], after: usize| match ranges {
        [(_, Verdict::Is(action))] => returns.iter().position(|r| *r == action.ret()).map(Half::Return),
        _ => compact(ranges, after, returns).map(Half::Code),
    };
    let mid = ranges.len() / 2;
    // The right half is laid out last, so it is made first: the left's distances depend on it.
    let right = half(&ranges[mid..], after)?;
    let left = half(&ranges[..mid], after + right.len())?;
    let jt = match right {
        Half::Return(i) => left.len() + after + i,
        Half::Code(_) => left.len(),
    };
    let jf = match left {
        Half::Return(i) => right.len() + after + i,
        Half::Code(_) => 0,
    };
    let mut code = vec![jump(bpf::JGE, ranges[mid].0, u8::try_from(jt).ok()?, u8::try_from(jf).ok()?)];
    for half in [left, right] {
        if let Half::Code(half) = half {
            code.extend(half);
        }
    }
    Some(code)
}

/// An argument check whose outcomes jump to their returns among `returns`, `after`
/// instructions after it.
fn compact_check(rule: &ArgRule, after: usize, returns: &[u32]) -> Option<Vec<sock_filter>> {
    let at = |action: Action| returns.iter().position(|r| *r == action.ret());
    let (matched, otherwise) = (at(rule.matched)?, at(rule.otherwise)?);
    let mut code = vec![load(bpf::arg_low(rule.arg))];
    match rule.test {
        ArgTest::AnyBit(mask) => {
            let (jt, jf) = (after + matched, after + otherwise);
            code.push(jump(bpf::JSET, mask, u8::try_from(jt).ok()?, u8::try_from(jf).ok()?));
        }
        ArgTest::OneOf(values) => {
            // The i-th test (of n) has n - 1 - i tests after it; only the last one falls to `otherwise`.
            let n = values.len();
            for (i, value) in values.iter().enumerate() {
                let following = n - 1 - i;
                let jt = following + after + matched;
                let jf = if following == 0 { after + otherwise } else { 0 };
                code.push(jump(bpf::JEQ, *value, u8::try_from(jt).ok()?, u8::try_from(jf).ok()?));
            }
        }
    }
    Some(code)
}

/// A balanced tree over `ranges` (not empty) with every leaf in line: below the middle start
/// to the left half, which follows the node; from it on to the right half, after the left.
fn tree(ranges: &[(u32, Verdict)]) -> Vec<sock_filter> {
    if let [(_, verdict)] = ranges {
        return leaf(*verdict);
    }
    let mid = ranges.len() / 2;
    let (left, right) = (tree(&ranges[..mid]), tree(&ranges[mid..]));
    let boundary = ranges[mid].0;
    let mut node = match u8::try_from(left.len()) {
        Ok(skip) => vec![jump(bpf::JGE, boundary, skip, 0)],
        // Too far for jt: jt falls through to a JA over the left half, jf skips the JA.
        Err(_) => vec![jump(bpf::JGE, boundary, 0, 1), ja(left.len() as u32)],
    };
    node.extend(left);
    node.extend(right);
    node
}

/// The instructions that end a run through the tree with `verdict`.
fn leaf(verdict: Verdict) -> Vec<sock_filter> {
    let rule = match verdict {
        Verdict::Is(action) => return vec![ret(action.ret())],
        Verdict::Check(rule) => rule,
    };
    let mut code = vec![load(bpf::arg_low(rule.arg))];
    match rule.test {
        ArgTest::AnyBit(mask) => code.push(jump(bpf::JSET, mask, 1, 0)),
        ArgTest::OneOf(values) => {
            // The i-th test (of n) jumps over the tests after it and the `otherwise` return.
            let n = values.len();
            for (i, value) in values.iter().enumerate() {
                let skip = u8::try_from(n - i).expect("an argument rule tests a handful of values");
                code.push(jump(bpf::JEQ, *value, skip, 0));
            }
        }
    }
    code.push(ret(rule.otherwise.ret()));
    code.push(ret(rule.matched.ret()));
    code
}

/// `program` behind a prologue that allows exit_group on the build target's arch, then clears
/// A (a program starts with A = 0), so that a sandbox whose exec fails can always end.
pub(crate) fn behind_exit_prologue(program: &[sock_filter]) -> Vec<sock_filter> {
    let mut code = vec![
        load(bpf::ARCH),
        jump(bpf::JEQ, bpf::AUDIT_ARCH, 0, 3),
        load(bpf::NR),
        jump(bpf::JEQ, libc::SYS_exit_group as u32, 0, 1),
        ret(bpf::RET_ALLOW),
        load_imm(0),
    ];
    code.extend_from_slice(program);
    code
}

/// How many instructions [`behind_exit_prologue`] adds.
pub(crate) const EXIT_PROLOGUE_LEN: usize = 6;
