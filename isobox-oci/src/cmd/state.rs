//! `state ID`: runtime-spec's state JSON (and runc's `rootfs`, `created`, `owner`).

use crate::cli::{self, Global};
use crate::error::OciError;
use crate::state;

pub fn run(g: &Global, args: &[String]) -> Result<(), OciError> {
    let id = cli::parse(args, &[])?.id("state")?.to_string();
    let container = state::open(&g.root, &id)?;
    let out = state::spec_state(&container.record, container.status());
    println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
    Ok(())
}
