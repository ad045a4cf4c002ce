//! `list [-q]`: the containers under the state root (`-q`: their ids only).

use crate::cli::{self, flag, FlagSpec, Global};
use crate::error::OciError;
use crate::state;

const FLAGS: &[FlagSpec] = &[flag(&["quiet", "q"], false), flag(&["format", "f"], true)];

pub fn run(g: &Global, args: &[String]) -> Result<(), OciError> {
    let p = cli::parse(args, FLAGS)?;
    let mut ids: Vec<String> = match std::fs::read_dir(&g.root) {
        Ok(entries) => entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(OciError::io("reading the state root", &g.root)(e)),
    };
    ids.retain(|id| state::check_id(id).is_ok());
    ids.sort();
    if p.is_set("quiet") {
        for id in ids {
            println!("{id}");
        }
        return Ok(());
    }
    println!("ID\tPID\tSTATUS\tBUNDLE");
    for id in ids {
        if let Ok(c) = state::open(&g.root, &id) {
            println!("{id}\t{}\t{}\t{}", c.record.pid, c.status().name(), c.record.bundle.display());
        }
    }
    Ok(())
}
