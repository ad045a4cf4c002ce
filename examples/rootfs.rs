//! Pivot into a directory of your own: here a temporary one holding a file and the host's
//! /usr (read-only), so the sandbox sees nothing else of the host.
use isobox::{Command, Mount, Namespaces, Sandbox};

fn run() -> Result<String, Box<dyn std::error::Error>> {
    let root = tempfile::tempdir()?;
    // A root caller's sandbox is nobody on the host: the root must be readable by all, and
    // hold the mount points it cannot create (here /usr).
    std::fs::set_permissions(root.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    std::fs::create_dir(root.path().join("usr"))?;
    std::fs::write(root.path().join("hello.txt"), "hello from the new root\n")?;
    for dir in ["bin", "lib", "lib64"] {
        // Merged-/usr hosts keep these as links into /usr; recreate them where they are.
        if let Ok(target) = std::fs::read_link(format!("/{dir}")) {
            std::os::unix::fs::symlink(target, root.path().join(dir))?;
        }
    }
    let sandbox = Sandbox::builder()
        .namespaces(Namespaces::USER | Namespaces::MOUNT | Namespaces::PID)
        .rootfs(root.path())
        .mount(Mount::bind_ro("/usr", "/usr"))
        .build()?;
    let mut cmd = Command::new("/usr/bin/sh");
    cmd.args(["-c", "cat /hello.txt; ls /"]);
    let out = sandbox.output(&cmd)?;
    Ok(String::from_utf8(out.stdout)?)
}

fn main() {
    match run() {
        Ok(text) => print!("{text}"),
        Err(e) => {
            eprintln!("isobox: {e}");
            std::process::exit(1);
        }
    }
}

#[test]
fn rootless_example_rootfs() {
    let text = run().expect("runs");
    assert!(text.starts_with("hello from the new root\n"), "{text}");
    assert!(text.contains("usr") && !text.contains("etc"), "{text}");
}
