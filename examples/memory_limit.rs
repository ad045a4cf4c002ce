//! A memory limit enforced: the program allocates four times its limit, the kernel OOM-kills
//! it, and the exit report says so.
use isobox::{Command, Namespaces, Sandbox};

const LIMIT: u64 = 32 << 20;

fn run() -> Result<isobox::ExitReport, isobox::Error> {
    let sandbox = Sandbox::builder()
        .namespaces(Namespaces::USER | Namespaces::MOUNT)
        .memory_max(LIMIT)
        .memory_swap_max(LIMIT) // no swap either, so the limit is reached
        .pids_max(16)
        .build()?;
    // The shell reads 128 MiB into a variable: four times the limit.
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "x=$(head -c 134217728 /dev/zero | tr '\\0' x); echo never ${#x}"]);
    sandbox.status(&cmd)
}

fn main() {
    match run() {
        Ok(report) => {
            println!("{report}");
            if let Some(cg) = report.cgroup {
                println!("peak memory: {:?} bytes (limit {LIMIT})", cg.memory_peak_bytes);
                println!("OOM kills: {:?}", cg.oom_kills);
                println!("a limit was hit: {}", cg.limit_hit());
            }
        }
        Err(e) => {
            eprintln!("isobox: {e}");
            std::process::exit(1);
        }
    }
}

#[test]
fn example_memory_limit() {
    // Creating cgroups needs root here (or a delegated cgroup v2 subtree).
    if !nix::unistd::geteuid().is_root() {
        assert_ne!(std::env::var("ISOBOX_REQUIRE_PRIVILEGES").as_deref(), Ok("1"), "needs root");
        eprintln!("skipped: needs root");
        return;
    }
    {
        let report = run().expect("runs");
        assert_eq!(report.signal(), Some(9), "{report:?}");
        let cg = report.cgroup.expect("cgroup figures");
        assert!(cg.oom_kills.unwrap_or(0) >= 1, "{cg:?}");
    }
}
