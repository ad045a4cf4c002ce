//! isobox's init as pid 1: a signal sent to the sandbox reaches the program, an orphan is
//! reaped, and the report is the program's own. `cargo run --example init`.
use std::time::Duration;

use isobox::{Command, Namespaces, Sandbox, Signal};

fn main() -> Result<(), isobox::Error> {
    let sandbox = Sandbox::builder().namespaces(Namespaces::USER | Namespaces::PID | Namespaces::MOUNT).build()?;

    // `sleep` has no handler for SIGTERM: as pid 1 it would ignore it; beside the init it dies.
    let mut child = sandbox.spawn(Command::new("sleep").arg("60"))?;
    child.signal(Signal::TERM)?;
    let report = child.wait_timeout(Duration::from_secs(10))?.expect("sleep ended on SIGTERM");
    println!("sleep 60, sent SIGTERM: {report}");
    assert_eq!(report.signal(), Some(Signal::TERM.number()));

    // A program that leaves an orphan behind: the init adopts it and reaps it.
    let script = "o=$(sh -c 'sleep 0.1 >/dev/null & echo $!'); echo \"orphan $o, its parent now $(cut -d' ' -f4 /proc/$o/stat)\"; \
        sleep 0.3; [ -e /proc/$o ] && echo \"orphan $o left as a zombie\" || echo \"orphan $o reaped\"; exit 3";
    let out = sandbox.output(Command::new("/bin/sh").args(["-c", script]))?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    println!("the program's own status: {}", out.report);
    assert_eq!(out.report.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("reaped"));
    Ok(())
}

#[test]
fn rootless_example_init() {
    main().expect("the init example runs");
}
