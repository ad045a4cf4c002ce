//! What a failure inside the sandbox looks like: the step, the mount, the errno and a hint.
use isobox::{Command, Error, Mount, Namespaces, Sandbox};

fn run() -> Result<(), Error> {
    let sandbox = Sandbox::builder()
        .namespaces(Namespaces::USER | Namespaces::MOUNT)
        // The default root binds /usr read-only, so no mount point can be created below it.
        .mount(Mount::tmpfs("/usr/scratch"))
        .build()?;
    sandbox.spawn(&Command::new("/bin/true"))?.wait()?;
    Ok(())
}

fn main() {
    match run() {
        Ok(()) => println!("unexpectedly fine"),
        Err(e) => println!("{e}"),
    }
}

#[test]
fn rootless_example_setup_error() {
    let Err(Error::Setup(e)) = run() else { panic!("expected a setup error") };
    assert!(e.to_string().contains("mount #0 (tmpfs /usr/scratch)"), "{e}");
}
