use isobox::*;
fn main() {
    let sb = Sandbox::builder()
        .namespaces(Namespaces::USER | Namespaces::PID | Namespaces::MOUNT | Namespaces::UTS | Namespaces::IPC | Namespaces::NET)
        .hostname("box")
        .build()
        .unwrap();
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "hostname; echo pid $$; cat /proc/self/uid_map; ls /; id; ip link 2>/dev/null || cat /proc/net/dev; ls -la /proc/self/fd"]);
    match sb.output(&cmd) {
        Ok(out) => { println!("{}", String::from_utf8_lossy(&out.stdout)); eprintln!("{}", String::from_utf8_lossy(&out.stderr)); println!("{:?}", out.report); }
        Err(e) => println!("ERR: {e}"),
    }
}
