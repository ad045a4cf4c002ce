//! A pool of prewarmed sandboxes: each spawn takes a sandbox that is already set up (its
//! namespaces, root, limits, filter and init), so it costs about what a plain
//! `std::process::Command` does. `cargo run --example pool`.
use std::time::Instant;

use isobox::{Command, Namespaces, Sandbox};

fn main() -> Result<(), isobox::Error> {
    let sandbox = Sandbox::builder()
        .namespaces(Namespaces::USER | Namespaces::PID | Namespaces::MOUNT | Namespaces::UTS | Namespaces::IPC)
        .hostname("pooled")
        .build()?;
    let pool = sandbox.pool(4)?;
    println!("{} sandboxes waiting", pool.idle());

    let started = Instant::now();
    let out = pool
        .output(Command::new("/bin/sh").args(["-c", "echo \"$(hostname), pid $$, in $(pwd)\""]).current_dir("/tmp"))?;
    println!("{} ({:?} from hand-over to exit)", String::from_utf8_lossy(&out.stdout).trim(), started.elapsed());
    // Pid 2: beside the sandbox's init (1), which holds the sandbox open until it exits.
    assert_eq!(String::from_utf8_lossy(&out.stdout), "pooled, pid 2, in /tmp\n");
    assert!(out.report.success(), "{}", out.report);

    // Each sandbox runs one command: what one leaves in its /tmp, the next does not see.
    pool.status(Command::new("/bin/sh").args(["-c", "echo secret > /tmp/left"]))?;
    let out = pool.output(Command::new("/bin/sh").args(["-c", "cat /tmp/left 2>&1 || true"]))?;
    println!("the next tenant: {}", String::from_utf8_lossy(&out.stdout).trim());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("secret"));
    Ok(())
}

#[test]
fn rootless_example_pool() {
    main().expect("the pool example runs");
}
