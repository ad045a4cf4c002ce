//! The prologue of a filter with notify rules (**parent**, at `build()` and per spawn): it
//! allows the child's own last calls before exec, so none of them waits on a listener that
//! nobody holds yet (`notes/next.md` §1.3, "the known deadlock").

use libc::sock_filter;

use super::bpf::{self, jump, load, load_imm, ret};

/// How many instructions [`behind_control_prologue`] puts in front of a program.
pub(crate) const CONTROL_PROLOGUE_LEN: usize = 12;

/// Where the prologue keeps the report pipe's and the go pipe's descriptor numbers.
const REPORT_FD_AT: usize = 6;
const GO_FD_AT: usize = 9;

/// `program` behind a prologue that allows, on the build target's arch, exactly the system
/// calls the child makes between installing a filter with a listener and exec: `exit_group`,
/// `write(report_fd)` and `read(go_fd)` (low 32 bits: the kernel reads a descriptor as an
/// unsigned int), then clears A. The numbers are 0 until [`set_control_fds`] sets them.
pub(crate) fn behind_control_prologue(program: &[sock_filter]) -> Vec<sock_filter> {
    let mut code = vec![
        load(bpf::ARCH),
        jump(bpf::JEQ, bpf::AUDIT_ARCH, 0, 9),
        load(bpf::NR),
        jump(bpf::JEQ, libc::SYS_exit_group as u32, 6, 0),
        jump(bpf::JEQ, libc::SYS_write as u32, 0, 2),
        load(bpf::arg_low(0)),
        jump(bpf::JEQ, 0, 3, 4), // the report pipe's write end: REPORT_FD_AT
        jump(bpf::JEQ, libc::SYS_read as u32, 0, 3),
        load(bpf::arg_low(0)),
        jump(bpf::JEQ, 0, 0, 1), // the go pipe's read end: GO_FD_AT
        ret(bpf::RET_ALLOW),
        load_imm(0),
    ];
    debug_assert_eq!(code.len(), CONTROL_PROLOGUE_LEN);
    code.extend_from_slice(program);
    code
}

/// Sets the descriptor numbers in a program made by [`behind_control_prologue`].
pub(crate) fn set_control_fds(program: &mut [sock_filter], report_fd: u32, go_fd: u32) {
    program[REPORT_FD_AT].k = report_fd;
    program[GO_FD_AT].k = go_fd;
}
