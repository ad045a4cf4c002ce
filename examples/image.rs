//! Run a container image: build a small one (Debian's static busybox as its userland, in
//! two layers) as an OCI layout in a temporary directory, import it into an `ImageStore` and
//! run its command with the image's Env, WorkingDir and Cmd.
//!
//! An image from elsewhere comes the same way: `skopeo copy docker://busybox
//! oci:/tmp/bb:latest`, or `docker save busybox > bb.tar` and `import_docker_archive`.
use std::io::Write;
use std::path::Path;

use isobox::{ImageStore, Mount, Namespaces, Sandbox, UnpackOptions, UserMapping};
use serde_json::json;
use sha2::Digest as _;

const BUSYBOX: &str = "/bin/busybox";

fn run() -> Result<Option<String>, Box<dyn std::error::Error>> {
    if !Path::new(BUSYBOX).is_file() {
        eprintln!("skipped: this example needs {BUSYBOX} (Debian: apt install busybox-static)");
        return Ok(None);
    }
    let work = tempfile::tempdir()?;
    // A root caller's sandbox is nobody on the host: it must be able to reach the store.
    std::fs::set_permissions(work.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    let layout = work.path().join("layout");
    write_image(&layout)?;

    // The layers are unpacked owned as the sandbox's user namespace will show them.
    let options = UnpackOptions::for_user_namespace(&UserMapping::Unprivileged)?;
    let store = ImageStore::open(work.path().join("store"))?.with_unpack_options(options);
    let imported = store.import_oci_dir(&layout, Some("hello:1"))?;
    println!("imported {} layers, {} bytes of blobs", imported.report.layers_unpacked, imported.report.bytes_written);

    let image = store.image("hello:1")?;
    let sandbox = Sandbox::builder()
        .namespaces(Namespaces::USER | Namespaces::MOUNT | Namespaces::PID | Namespaces::UTS)
        .hostname("hello")
        .image(&image)
        .mount(Mount::proc("/proc"))
        .build()?;
    // Entrypoint + Cmd, with the image's Env and WorkingDir; writes go to a throwaway tmpfs.
    let out = sandbox.output(&sandbox.image_command()?)?;
    if !out.report.success() {
        return Err(format!("{}: {}", out.report, String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(Some(String::from_utf8(out.stdout)?))
}

/// An OCI layout of one image: a base layer with busybox and its links, a second one with a
/// greeting, and a config whose Cmd prints it.
fn write_image(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut base =
        vec![("bin/".to_string(), Vec::new(), 0o755), ("bin/busybox".into(), std::fs::read(BUSYBOX)?, 0o755)];
    for applet in ["sh", "cat", "echo", "hostname", "id", "pwd"] {
        base.push((format!("bin/{applet}"), b"-> busybox".to_vec(), 0o777));
    }
    base.extend([("proc/".into(), Vec::new(), 0o755), ("etc/".into(), Vec::new(), 0o755)]);
    base.push(("etc/passwd".into(), b"root:x:0:0:root:/root:/bin/sh\n".to_vec(), 0o644));
    let greeting = vec![
        ("srv/".to_string(), Vec::new(), 0o755),
        ("srv/hello.txt".into(), b"hello from an image\n".to_vec(), 0o644),
    ];
    let layers = [layer(&base)?, layer(&greeting)?];
    let config = json!({
        "architecture": "amd64", "os": "linux",
        "config": {
            "Entrypoint": ["/bin/sh", "-c"],
            "Cmd": ["cat hello.txt; echo \"in $(pwd) on $(hostname) as $(id -u), GREETING=$GREETING\""],
            "Env": ["PATH=/bin", "GREETING=hi"],
            "WorkingDir": "/srv",
        },
        "rootfs": { "type": "layers", "diff_ids": layers.iter().map(|l| digest(l)).collect::<Vec<_>>() },
    });
    let config = serde_json::to_vec(&config)?;
    let descriptor =
        |media: &str, blob: &[u8]| json!({ "mediaType": media, "digest": digest(blob), "size": blob.len() });
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptor("application/vnd.oci.image.config.v1+json", &config),
        "layers": layers.iter().map(|l| descriptor("application/vnd.oci.image.layer.v1.tar", l)).collect::<Vec<_>>(),
    }))?;
    let mut index = descriptor("application/vnd.oci.image.manifest.v1+json", &manifest);
    index["annotations"] = json!({ "org.opencontainers.image.ref.name": "hello:1" });
    std::fs::create_dir_all(dir.join("blobs/sha256"))?;
    for blob in layers.iter().chain([&config, &manifest]) {
        std::fs::write(dir.join("blobs/sha256").join(&digest(blob)[7..]), blob)?;
    }
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&json!({ "schemaVersion": 2, "manifests": [index] }))?)?;
    Ok(())
}

/// A layer tar of (name, contents, mode): a name ending in '/' is a directory, contents
/// `-> target` a symlink.
fn layer(entries: &[(String, Vec<u8>, u32)]) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, data, mode) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(*mode);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h.set_size(0);
        if let Some(dir) = name.strip_suffix('/') {
            h.set_entry_type(tar::EntryType::Directory);
            tar.append_data(&mut h, dir, &[][..])?;
        } else if let Some(target) = data.strip_prefix(b"-> ") {
            h.set_entry_type(tar::EntryType::Symlink);
            tar.append_link(&mut h, name, std::str::from_utf8(target).expect("utf-8"))?;
        } else {
            h.set_size(data.len() as u64);
            tar.append_data(&mut h, name, &data[..])?;
        }
    }
    let mut bytes = tar.into_inner()?;
    bytes.flush()?;
    Ok(bytes)
}

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn main() {
    match run() {
        Ok(Some(text)) => print!("{text}"),
        Ok(None) => {}
        Err(e) => {
            eprintln!("isobox: {e}");
            std::process::exit(1);
        }
    }
}

#[test]
fn rootless_example_image() {
    let Some(text) = run().expect("runs") else { return };
    assert_eq!(text, "hello from an image\nin /srv on hello as 0, GREETING=hi\n");
}
