//! Compiles isobox's init (`src/sys/init/`) into a small static executable that the library
//! embeds (see `src/sys/init_exe.rs`): pid 1 of a sandbox with a pid namespace runs it from a
//! sealed memfd. It is `no_std` and has no libc, so only `core` for the target is needed, and
//! the system linker links it with no start files or libraries.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=src/sys/init");
    println!("cargo:rerun-if-changed=src/sys/syscall6.rs"); // included by path
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("isobox-init");
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut cmd = Command::new(rustc);
    cmd.args(["--edition=2021", "--crate-type=bin", "--crate-name=isobox_init", "--target", &target])
        .args(["-C", "panic=abort", "-C", "opt-level=s", "-C", "relocation-model=static", "-C", "strip=symbols"])
        .args(["-C", "link-arg=-nostartfiles", "-C", "link-arg=-nostdlib", "-C", "link-arg=-static"])
        .arg("src/sys/init/main.rs")
        .arg("-o")
        .arg(&out);
    // The linker cargo uses for this target (set from `target.<triple>.linker` in its config
    // or the environment: RUSTC_LINKER), else the environment's own variable.
    let linker_var = format!("CARGO_TARGET_{}_LINKER", target.to_uppercase().replace(['-', '.'], "_"));
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    println!("cargo:rerun-if-env-changed={linker_var}");
    if let Some(linker) = env::var_os("RUSTC_LINKER").or_else(|| env::var_os(&linker_var)) {
        cmd.arg("-C").arg(format!("linker={}", linker.to_string_lossy()));
    }
    let status = cmd.status().expect("running rustc for isobox's init");
    assert!(status.success(), "compiling isobox's init (src/sys/init/main.rs) for {target} failed");
}
