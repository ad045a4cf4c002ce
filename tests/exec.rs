//! Child::exec: more commands in a live sandbox.
mod common;

use common::{require_userns, sandbox};
use isobox::{Command, Stdio};

fn sleeper(sb: &isobox::Sandbox) -> isobox::Child {
    let mut cmd = Command::new("/bin/sleep");
    cmd.arg("100");
    sb.spawn(&cmd).unwrap()
}

fn exec_sh(first: &isobox::Child, script: &str) -> isobox::Output {
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", script]).stdout(Stdio::piped()).stderr(Stdio::piped());
    first.exec(&cmd).unwrap_or_else(|e| panic!("exec `{script}`: {e}")).wait_with_output().unwrap()
}

#[test]
fn rootless_smoke() {
    if !require_userns() {
        return;
    }
    let sb = sandbox(|b| {
        b.hostname("box");
    });
    let mut first = sleeper(&sb);
    let out = exec_sh(&first, "hostname; echo $$; cat /proc/1/cmdline | tr '\\0' ' '; ls /; id; grep -E 'CapEff|Seccomp:' /proc/self/status");
    eprintln!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    first.kill().unwrap();
    first.wait().unwrap();
}
