//! The sandbox at work: run with no arguments to see its hostname, pid, id map and root;
//! or pass a command to run it inside, e.g. `cargo run --example tour -- sh`.
//!
//! A command run from a terminal gets the terminal as its own (`new_session(false)`): a shell
//! then has job control and Ctrl-C stops what it runs, not the tour. That also lets it push
//! input into the terminal (TIOCSTI), so only do it for programs you trust with it; without a
//! terminal, or for the tour itself, the program gets a session of its own (the default).
use std::io::IsTerminal;

use isobox::{Command, Namespaces, Sandbox};

const TOUR: &str = "echo \"hostname:  $(hostname)\"; \
    echo \"pid:       $$ (processes visible: $(ls /proc | grep -c '^[0-9]'))\"; \
    echo \"uid map:   $(cat /proc/self/uid_map | tr -s ' ')\"; \
    echo \"whoami:    $(id -u):$(id -g)\"; \
    echo \"network:   $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ' ')\"; \
    echo \"root:      $(ls -A / | tr '\\n' ' ')\"";

fn run(args: &[String]) -> Result<i32, isobox::Error> {
    let interactive = !args.is_empty();
    let sandbox = Sandbox::builder()
        .namespaces(
            Namespaces::USER
                | Namespaces::PID
                | Namespaces::MOUNT
                | Namespaces::UTS
                | Namespaces::IPC
                | Namespaces::NET,
        )
        .hostname("isobox")
        .new_session(!(interactive && std::io::stdin().is_terminal()))
        .build()?;
    let mut cmd = match args.split_first() {
        Some((program, rest)) => {
            let mut cmd = Command::new(program);
            cmd.args(rest);
            cmd
        }
        None => {
            let mut cmd = Command::new("/bin/sh");
            cmd.args(["-c", TOUR]);
            cmd
        }
    };
    cmd.env("TERM", std::env::var("TERM").unwrap_or_else(|_| "dumb".into()));
    let report = sandbox.status(&cmd)?;
    println!("{report}");
    Ok(report.code().unwrap_or(128 + report.signal().unwrap_or(0)))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("isobox: {e}");
            std::process::exit(1);
        }
    }
}

#[test]
fn rootless_example_tour() {
    assert_eq!(run(&[]).expect("the tour runs"), 0);
}
