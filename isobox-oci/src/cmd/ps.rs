//! `ps [--format json] ID`: the container's processes, by host pid (its cgroup's, or its
//! first process alone without one).

use crate::cli::{self, flag, FlagSpec, Global};
use crate::error::OciError;
use crate::state::{self, Status};

const FLAGS: &[FlagSpec] = &[flag(&["format", "f"], true)];

pub fn run(g: &Global, args: &[String]) -> Result<(), OciError> {
    let p = cli::parse(args, FLAGS)?;
    let id = p.id("ps")?.to_string();
    let container = state::open(&g.root, &id)?;
    let mut pids = state::cgroup_pids(&container.record);
    if pids.is_empty() && container.status() != Status::Stopped {
        pids.push(container.record.pid);
    }
    match p.value("format").unwrap_or("table") {
        "json" => println!("{}", serde_json::to_string(&pids).expect("JSON")),
        "table" => {
            println!("PID");
            for pid in pids {
                println!("{pid}");
            }
        }
        other => return Err(OciError::Usage(format!("ps --format {other:?}: json or table"))),
    }
    Ok(())
}
