//! isobox-oci: an OCI runtime with runc's command line, on top of the isobox library.
//!
//! `create` sets the container up with `Sandbox::spawn_held` and leaves it held at its
//! `exec.fifo` (`HeldChild::detach`); `start` writes that fifo; `state`, `kill`, `delete`,
//! `ps` and `features` read the state directory (`--root`, default /run/isobox-oci).

mod cli;
mod cmd;
mod devices;
mod error;
mod hooks;
mod log;
mod map;
mod mounts;
mod resources;
mod seccomp;
mod spec;
mod state;

use error::OciError;

const USAGE: &str = "usage: isobox-oci [--root DIR] [--log FILE] [--log-format text|json] COMMAND ...
commands:
  create [--bundle DIR] [--pid-file FILE] ID   set a container up, held before its program
  start ID                                     run a created container's program
  state ID                                     its state, as JSON
  kill [--all] ID [SIGNAL]                     signal it (default SIGTERM)
  delete [--force] ID                          remove it (--force: a running one too)
  ps [--format json] ID                        its processes
  list [-q]                                    the containers
  features                                     what this runtime supports, as JSON";

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let (global, command, rest) = match cli::split_global(&argv) {
        Ok(split) => split,
        Err(e) => fail(None, &e),
    };
    let result = match command.as_deref() {
        Some("create") => cmd::create::run(&global, &rest),
        Some("start") => cmd::start::run(&global, &rest),
        Some("state") => cmd::state::run(&global, &rest),
        Some("kill") => cmd::kill::run(&global, &rest),
        Some("delete") => cmd::delete::run(&global, &rest),
        Some("ps") => cmd::ps::run(&global, &rest),
        Some("list") => cmd::list::run(&global, &rest),
        Some("features") => {
            cmd::features::run();
            Ok(())
        }
        Some("--version" | "-v" | "version") => {
            println!("isobox-oci version {}\nspec: {}", env!("CARGO_PKG_VERSION"), state::OCI_VERSION);
            Ok(())
        }
        Some("--help" | "-h" | "help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(OciError::Usage(format!("unknown command {other:?}"))),
    };
    if let Err(e) = result {
        fail(Some(&global), &e);
    }
}

fn fail(global: Option<&cli::Global>, e: &OciError) -> ! {
    let msg = error_chain(e);
    if let Some(g) = global {
        log::error(g, &msg);
    }
    eprintln!("isobox-oci: {msg}");
    std::process::exit(1)
}

/// The error with its sources, one after the other.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}
