//! A `wait` for a command whose exit another process's tracer holds (`common/traced.rs`)
//! must sleep through that, not spin on the caller's CPU, and return once the tracer lets go.
mod common;
#[path = "common/traced.rs"]
mod traced;

use std::io::Write;
use std::time::Instant;

use common::{cmd, require_root, sandbox};
use isobox::Child;
use traced::{assert_waited_without_spinning, thread_cpu, trace, until_a_line};

/// Has a tracer hold the exit of `child` (started with [`until_a_line`]), ends it, and
/// checks its `wait` on this thread.
fn wait_held(child: &mut Child) {
    let mut tracer = trace(child.id());
    let (started, cpu) = (Instant::now(), thread_cpu());
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let report = child.wait().unwrap();
    let (took, spent) = (started.elapsed(), thread_cpu() - cpu);
    tracer.wait().unwrap();
    assert!(report.success(), "{report}");
    assert_waited_without_spinning(took, spent);
}

#[test]
fn waiting_for_an_exec_d_command_a_tracer_holds_does_not_spin() {
    if !require_root() {
        return;
    }
    let mut first = sandbox(|_| {}).spawn(&cmd("/bin/sleep", &["30"])).unwrap();
    wait_held(&mut first.exec(&until_a_line()).unwrap());
    first.kill().unwrap();
    first.wait().unwrap();
}

#[test]
fn waiting_for_a_pooled_command_a_tracer_holds_does_not_spin() {
    if !require_root() {
        return;
    }
    let pool = sandbox(|_| {}).pool(1).unwrap();
    wait_held(&mut pool.spawn(&until_a_line()).unwrap());
}

#[test]
fn waiting_for_a_sandbox_without_init_a_tracer_holds_does_not_spin() {
    if !require_root() {
        return;
    }
    // Without an init: with one, `wait` ends at the init's report of the program's end.
    let no_init = sandbox(|b| {
        b.init(false);
    });
    wait_held(&mut no_init.spawn(&until_a_line()).unwrap());
}
