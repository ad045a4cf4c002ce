//! Sandboxes under tokio (feature `tokio`): `cargo run --features tokio --example async_tour`.
//!
//! Three programs run at once and their output is collected; a fourth talks through its pipes;
//! a fifth overstays its deadline and is killed.
use std::time::Duration;

use isobox::{Command, Namespaces, Sandbox, Stdio};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

async fn run() -> Result<Vec<String>, isobox::Error> {
    let sandbox = Sandbox::builder()
        .namespaces(Namespaces::USER | Namespaces::PID | Namespaces::MOUNT | Namespaces::UTS | Namespaces::NET)
        .hostname("async-box")
        .build()?;
    let mut lines = Vec::new();

    // Concurrent: each future spawns on isobox's spawner thread and waits on the reactor.
    let scripts = [
        "echo one: $(hostname)",
        "sleep 0.2; echo two: pid $$",
        "echo three: $(ls /proc | grep -c '^[0-9]') processes",
    ];
    let runs = scripts.map(|script| sandbox.output_async(Command::new("/bin/sh").args(["-c", script])));
    for out in futures_all(runs).await {
        let out = out?;
        lines.push(String::from_utf8_lossy(&out.stdout).trim_end().to_owned());
    }

    // Pipes: a line in, the line back, upper-cased.
    let mut tr = Command::new("tr");
    tr.args(["a-z", "A-Z"]).stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = sandbox.spawn_async(&tr).await?;
    let mut stdin = child.stdin.take().expect("piped");
    stdin.write_all(b"four: through the pipes\n").await.map_err(isobox::Error::Output)?;
    drop(stdin);
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line).await.map_err(isobox::Error::Output)?;
    lines.push(line.trim_end().to_owned());
    child.wait().await?;

    // A deadline: wait_timeout gives up, kill ends it, wait reaps it (dropping it would too).
    let mut child = sandbox.spawn_async(Command::new("sleep").arg("1000")).await?;
    if child.wait_timeout(Duration::from_millis(100)).await?.is_none() {
        child.kill()?;
    }
    lines.push(format!("five: {}", child.wait().await?));
    Ok(lines)
}

/// Awaits each future of `futures`, all of them running at once (as tasks).
async fn futures_all<F>(futures: [F; 3]) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let tasks = futures.map(tokio::spawn);
    let mut outputs = Vec::new();
    for task in tasks {
        outputs.push(task.await.expect("task"));
    }
    outputs
}

#[tokio::main]
async fn main() {
    match run().await {
        Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
        Err(e) => {
            eprintln!("isobox: {e}");
            std::process::exit(1);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_async_tour() {
    let lines = run().await.expect("runs");
    assert_eq!(lines[0], "one: async-box");
    assert_eq!(lines[1], "two: pid 2"); // beside isobox's init, pid 1
    assert!(lines[2].starts_with("three: "), "{lines:?}");
    assert_eq!(lines[3], "FOUR: THROUGH THE PIPES");
    assert!(lines[4].starts_with("five: killed by SIGKILL"), "{lines:?}");
}
