//! A two-step build, Docker's `RUN` as a library call: a base image (a few directories over
//! the host's /usr, written with `write_layer` and imported), a sandbox over it that writes a
//! file, its upper directory committed as a new image with a new `Cmd`, and that command run
//! in a sandbox over the new image.
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use isobox::{Command, CommitOptions, Digest, ImageStore, Mount, Namespaces, OverlayRoot, OwnerMap, Sandbox, Upper};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A sandbox over `layers` (the host's /usr bound in), its writes in `upper`.
fn sandbox(layers: Vec<std::path::PathBuf>, upper: Option<&Path>) -> Result<Sandbox> {
    let mut root = OverlayRoot::new(layers);
    if let Some(dir) = upper {
        root = root.upper(Upper::Dir(dir.to_owned())).keep_upper(true);
    }
    let mut b = Sandbox::builder();
    b.namespaces(Namespaces::USER | Namespaces::MOUNT | Namespaces::PID).overlay_root(root);
    b.mount(Mount::bind_ro("/usr", "/usr"));
    Ok(b.build()?)
}

/// The base image: `usr/` (a mount point), the host's merged-/usr links, and `work/`, owned by
/// the sandbox's root on the host (nobody for a root caller) so that it may write there.
fn base_image(store: &ImageStore, scratch: &Path) -> Result<isobox::Image> {
    let tree = scratch.join("tree");
    for dir in ["usr", "work"] {
        std::fs::create_dir_all(tree.join(dir))?;
    }
    for dir in ["bin", "lib", "lib64"] {
        if let Ok(target) = std::fs::read_link(format!("/{dir}")) {
            std::os::unix::fs::symlink(target, tree.join(dir))?;
        }
    }
    if nix::unistd::geteuid().is_root() {
        std::os::unix::fs::chown(tree.join("work"), Some(isobox::NOBODY), Some(isobox::NOBODY))?;
    }
    let mut layer = Vec::new();
    isobox::write_layer(&tree, &mut layer, &OwnerMap::default())?;
    // An OCI layout of one image around it, imported into the store.
    let layout = scratch.join("layout");
    std::fs::create_dir_all(layout.join("blobs/sha256"))?;
    let blob = |bytes: &[u8]| -> Result<Digest> {
        let digest = Digest::of(bytes);
        std::fs::write(layout.join("blobs/sha256").join(digest.hex()), bytes)?;
        Ok(digest)
    };
    let arch = if cfg!(target_arch = "aarch64") { "arm64" } else { "amd64" };
    let layer_digest = blob(&layer)?;
    let config = serde_json::json!({
        "architecture": arch,
        "os": "linux",
        "config": { "Env": ["PATH=/usr/bin:/bin"] },
        "rootfs": { "type": "layers", "diff_ids": [layer_digest.to_string()] },
    });
    let config = serde_json::to_vec(&config)?;
    let (oci, config_digest, layer_digest) =
        ("application/vnd.oci.image", blob(&config)?.to_string(), layer_digest.to_string());
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": format!("{oci}.manifest.v1+json"),
        "config": { "mediaType": format!("{oci}.config.v1+json"), "digest": config_digest, "size": config.len() },
        "layers": [{ "mediaType": format!("{oci}.layer.v1.tar"), "digest": layer_digest, "size": layer.len() }],
    }))?;
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": format!("{oci}.manifest.v1+json"),
            "digest": blob(&manifest)?.to_string(),
            "size": manifest.len(),
            "annotations": { "org.opencontainers.image.ref.name": "base" },
        }],
    });
    std::fs::write(layout.join("index.json"), serde_json::to_vec(&index)?)?;
    std::fs::write(layout.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    Ok(store.import_oci_dir(&layout, None)?.image)
}

fn run() -> Result<String> {
    let scratch = tempfile::tempdir()?;
    // The sandbox's root searches its way to the layers and the upper directory.
    std::fs::set_permissions(scratch.path(), PermissionsExt::from_mode(0o755))?;
    let store = ImageStore::open(scratch.path().join("store"))?;
    let base = base_image(&store, scratch.path())?;

    // Step 1: run a command over the base, keeping what it wrote.
    let uppers = scratch.path().join("uppers");
    std::fs::create_dir(&uppers)?;
    std::fs::set_permissions(&uppers, PermissionsExt::from_mode(0o755))?;
    let step = sandbox(base.layer_dirs(), Some(&uppers))?;
    let mut cmd = Command::new("/usr/bin/sh");
    cmd.args(["-c", "echo 'built by isobox' > /work/greeting"]);
    let mut child = step.spawn(&cmd)?;
    if !child.wait()?.success() {
        return Err("the build step failed".into());
    }
    let upper = child.upper_dir().ok_or("no upper directory")?;

    // Commit it: a new image, the base's layer and one more, with its own command.
    let options =
        CommitOptions::new("greeter:1").cmd(["/usr/bin/cat", "/work/greeting"]).created_by("echo > /work/greeting");
    let image = store.commit(&base, &upper, &options)?;
    // overlayfs leaves its work directory mode 0: open it so that the scratch tree can go.
    std::fs::set_permissions(upper.with_file_name("work").join("work"), PermissionsExt::from_mode(0o700))?;

    // Step 2: the new image's command, in a sandbox over its layers.
    let argv = &image.config().cmd;
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    let out = sandbox(image.layer_dirs(), None)?.output(&cmd)?;
    Ok(format!("{} layers, {}: {}", image.layers().len(), image.manifest_digest(), String::from_utf8(out.stdout)?))
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
fn rootless_example_build() {
    let text = run().expect("runs");
    assert!(text.starts_with("2 layers, sha256:") && text.ends_with(": built by isobox\n"), "{text}");
}
