//! `state ID`: runtime-spec's state JSON (and runc's `rootfs`, `created`, `owner`).

use serde_json::json;

use crate::cli::{self, Global};
use crate::error::OciError;
use crate::state::{self, Status, OCI_VERSION};

pub fn run(g: &Global, args: &[String]) -> Result<(), OciError> {
    let id = cli::parse(args, &[])?.id("state")?.to_string();
    let container = state::open(&g.root, &id)?;
    let status = container.status();
    let r = &container.record;
    let pid = if status == Status::Stopped { 0 } else { r.pid };
    let out = json!({
        "ociVersion": OCI_VERSION,
        "id": r.id,
        "status": status.name(),
        "pid": pid,
        "bundle": r.bundle,
        "rootfs": r.rootfs,
        "created": r.created,
        "owner": "",
        "annotations": r.annotations,
    });
    println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
    Ok(())
}
