//! Disk use of 100 sandboxes running one image (issue "Images"): the store holds the image's
//! layers once, and each sandbox adds only its upper directory (`Upper::Dir`), whatever it
//! writes. `cargo bench --bench image_disk`; needs /bin/busybox (Debian's busybox-static).
//! `ISOBOX_DISK_SANDBOXES` sets how many (default 100). Prints a Markdown table.
mod support;

use std::collections::HashSet;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use isobox::{Child, Command, Mount, Namespaces, Sandbox, Stdio, Upper};
use serde_json::json;
use support::image::{import, layer, Entry};

const BUSYBOX: &str = "/bin/busybox";

/// Bytes on disk under `dir` (allocated blocks, each inode once) and the number of inodes.
fn disk_use(dir: &Path, seen: &mut HashSet<(u64, u64)>) -> (u64, u64) {
    let (mut bytes, mut inodes) = (0, 0);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&at) else { continue };
        if seen.insert((meta.dev(), meta.ino())) {
            bytes += meta.blocks() * 512;
            inodes += 1;
        }
        if meta.is_dir() {
            stack.extend(std::fs::read_dir(&at).into_iter().flatten().flatten().map(|e| e.path()));
        }
    }
    (bytes, inodes)
}

fn image_layers() -> Vec<Vec<u8>> {
    let mut base: Vec<Entry> = vec![("bin/".into(), vec![], 0o755)];
    base.push(("bin/busybox".into(), std::fs::read(BUSYBOX).unwrap(), 0o755));
    for applet in ["sh", "cat", "head", "echo"] {
        base.push((format!("bin/{applet}"), b"-> busybox".to_vec(), 0o777));
    }
    base.push(("etc/".into(), vec![], 0o755));
    base.push(("etc/passwd".into(), b"root:x:0:0:root:/root:/bin/sh\n".to_vec(), 0o644));
    let data: Vec<Entry> = (0..64).map(|i| (format!("data/{i}.bin"), vec![i as u8; 64 << 10], 0o644)).collect();
    let mut data = data;
    data.insert(0, ("data/".into(), vec![], 0o755));
    let app = vec![("app/".into(), vec![], 0o755), ("app/config".into(), b"answer=42\n".to_vec(), 0o644)];
    vec![layer(&base), layer(&data), layer(&app)]
}

fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1 << 20) as f64)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if !Path::new(BUSYBOX).is_file() {
        eprintln!("skipped: needs {BUSYBOX} (Debian's busybox-static)");
        return;
    }
    let n: usize = std::env::var("ISOBOX_DISK_SANDBOXES").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let work = tempfile::tempdir_in("/var/tmp").unwrap();
    std::fs::set_permissions(work.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (store, image) = import(work.path(), "disk:1", &image_layers(), json!({ "Env": ["PATH=/bin"] }));
    let uppers = work.path().join("uppers");
    std::fs::create_dir(&uppers).unwrap();
    std::fs::set_permissions(&uppers, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let sandbox = Sandbox::builder()
        .namespaces(Namespaces::USER | Namespaces::PID | Namespaces::MOUNT)
        .image_with(&image, Upper::Dir(uppers.clone()), false)
        .mount(Mount::proc("/proc"))
        .build()
        .unwrap();
    // Each writes a little: a new 16 KiB file and a line appended to /etc/passwd (a copy-up
    // of that file), then waits for its stdin to close, so all are running when measured.
    let script = "head -c 16384 /data/1.bin > /mine && echo me:x:1:1::/:/bin/sh >> /etc/passwd && echo ready && cat";
    let mut children: Vec<Child> = (0..n)
        .map(|_| {
            let mut cmd = Command::new("/bin/sh");
            cmd.args(["-c", script]).stdin(Stdio::piped()).stdout(Stdio::piped());
            sandbox.spawn(&cmd).unwrap()
        })
        .collect();
    for child in &mut children {
        let mut ready = [0u8; 6];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut ready).unwrap();
        assert_eq!(&ready, b"ready\n");
    }
    let mut seen = HashSet::new();
    let (layers, layer_inodes) = disk_use(&store.path().join("isobox/layers"), &mut seen);
    let (blobs, _) = disk_use(&store.path().join("blobs"), &mut seen);
    let (upper, upper_inodes) = disk_use(&uppers, &mut seen);
    for mut child in children {
        child.stdin.take().unwrap().flush().unwrap();
        assert!(child.wait().unwrap().success());
    }
    let copies = layers * n as u64;
    println!(
        "{n} sandboxes of one image ({} layers), each with a directory upper; MiB on disk (allocated blocks)\n",
        image.layers().len()
    );
    println!("| what | MiB | inodes |");
    println!("| --- | ---: | ---: |");
    println!("| the store's unpacked layers (once) | {} | {layer_inodes} |", mib(layers));
    println!("| the store's blobs (the layer tars, config, manifest) | {} | |", mib(blobs));
    println!("| {n} upper directories | {} | {upper_inodes} |", mib(upper));
    println!("| per sandbox | {} | {} |", mib(upper / n as u64), upper_inodes / n as u64);
    println!("| layers + uppers | **{}** | |", mib(layers + upper));
    println!("| {n} copies of the image's tree, for comparison | {} | {} |", mib(copies), layer_inodes * n as u64);
    println!("\nlayers + uppers = {:.3} of {n} copies", (layers + upper) as f64 / copies as f64);
    assert_eq!(std::fs::read_dir(&uppers).unwrap().count(), 0, "the uppers are removed with the sandboxes");
}
