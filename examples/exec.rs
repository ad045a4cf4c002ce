//! Several commands in one sandbox: the first keeps it alive, the others run beside it with
//! the same namespaces, root, files and hardening, each a `Child` of its own.
use isobox::{Command, Error, Namespaces, Sandbox, Stdio};

fn run() -> Result<Vec<String>, Error> {
    let sandbox = Sandbox::builder()
        .namespaces(Namespaces::USER | Namespaces::PID | Namespaces::MOUNT | Namespaces::UTS | Namespaces::IPC)
        .hostname("box")
        .build()?;
    let mut first = sandbox.spawn(Command::new("sleep").arg("30"))?;
    let mut lines = Vec::new();
    for script in ["echo hello > /tmp/note; hostname", "cat /tmp/note; echo pid $$"] {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]).stdout(Stdio::piped());
        let out = first.exec(&cmd)?.wait_with_output()?;
        lines.extend(String::from_utf8_lossy(&out.stdout).lines().map(String::from));
    }
    first.kill()?;
    first.wait()?;
    Ok(lines)
}

fn main() {
    match run() {
        Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
        Err(e) => eprintln!("{e}"),
    }
}

#[test]
fn rootless_example_exec() {
    let lines = run().expect("exec works");
    assert_eq!(lines[..2], ["box", "hello"], "{lines:?}");
    assert!(lines[2].starts_with("pid "), "{lines:?}");
}
