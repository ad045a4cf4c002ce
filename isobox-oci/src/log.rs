//! `--log FILE`: errors appended as runc writes them, a JSON line with `--log-format json`
//! (containerd's shim reports the last `"level":"error"` line's `msg`).

use std::io::Write;

use crate::cli::Global;
use crate::state::now_rfc3339;

/// Appends `msg` as an error line to the log, if there is one; a log that cannot be written
/// is left (the error still goes to stderr).
pub fn error(g: &Global, msg: &str) {
    line(g, "error", msg);
}

/// A warning: to stderr, and to the log if there is one.
pub fn warn(g: &Global, msg: &str) {
    eprintln!("isobox-oci: warning: {msg}");
    line(g, "warning", msg);
}

fn line(g: &Global, level: &str, msg: &str) {
    let Some(path) = &g.log else { return };
    let line = if g.log_json {
        serde_json::json!({ "level": level, "msg": msg, "time": now_rfc3339() }).to_string()
    } else {
        format!("time=\"{}\" level={level} msg={:?}", now_rfc3339(), msg)
    };
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(f, "{line}");
    }
}
