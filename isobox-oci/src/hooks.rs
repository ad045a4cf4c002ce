//! The runtime-spec's hooks that run in the runtime's namespaces: `prestart` and
//! `createRuntime` at the end of `create`, `poststart` after `start`, `poststop` after
//! `delete`. Each gets the container's state on stdin and is killed past its timeout.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::OciError;
use crate::spec::Hook;

/// Runs `hooks` in order with `state` on stdin; the first failure is the error. `which` names
/// the hook list for it.
pub fn run(hooks: &[Hook], state: &str, which: &'static str) -> Result<(), OciError> {
    for (i, hook) in hooks.iter().enumerate() {
        run_one(hook, state).map_err(|why| OciError::Hook { which, index: i, path: hook.path.clone(), why })?;
    }
    Ok(())
}

fn run_one(hook: &Hook, state: &str) -> Result<(), String> {
    let mut cmd = Command::new(&hook.path);
    if let Some((argv0, rest)) = hook.args.split_first() {
        cmd.arg0(argv0).args(rest);
    }
    cmd.env_clear();
    for pair in &hook.env {
        if let Some((k, v)) = pair.split_once('=') {
            cmd.env(k, v);
        }
    }
    cmd.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::inherit());
    let mut child = cmd.spawn().map_err(|e| format!("starting it: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin is no error.
        let _ = stdin.write_all(state.as_bytes());
    }
    let limit = hook.timeout.filter(|t| *t > 0).map(|t| Duration::from_secs(t as u64));
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("waiting for it: {e}"))? {
            return if status.success() { Ok(()) } else { Err(format!("it ended with {status}")) };
        }
        if limit.is_some_and(|l| started.elapsed() >= l) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("it ran past its timeout of {}s and was killed", hook.timeout.unwrap_or(0)));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
