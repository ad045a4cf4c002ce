//! What the benches share: the tiny program, the prepared root and the sandbox variants.
#![allow(dead_code)]

pub mod image;
pub mod net;

use std::path::{Path, PathBuf};

use isobox::{Capabilities, Mount, Namespaces, Sandbox, SandboxBuilder, Seccomp, UserMapping};

/// A static program that writes one byte to stdout and exits: as little work as a program can
/// do, so the figures are the spawn's own.
const TINY_C: &str = "#include <unistd.h>\nint main(void) { return write(1, \"x\", 1) == 1 ? 0 : 1; }\n";

/// A prepared root holding only the `tiny` program and the empty directories `proc` and `dev`
/// (mount points).
pub struct Fixture {
    pub dir: tempfile::TempDir,
    /// An image's tree as a plain directory (`tree`) and as three layers (`l0` the mount
    /// points, `l1` the program, `l2` a file of its own), for the overlay root variants.
    pub images: tempfile::TempDir,
    /// The same tree as an image of three layers in an `ImageStore` (under `images/store`).
    pub image: isobox::Image,
}

impl Fixture {
    /// Builds the tiny program with the C compiler (`cc -static`), from a source file written
    /// to a temp directory of its own, outside the root.
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let src_dir = tempfile::tempdir().expect("temp dir");
        let src = src_dir.path().join("tiny.c");
        std::fs::write(&src, TINY_C).unwrap();
        let status = std::process::Command::new("cc")
            .args(["-static", "-O2", "-o"])
            .arg(dir.path().join("tiny"))
            .arg(&src)
            .status()
            .expect("the benches need a C compiler (cc) and a static libc (libc6-dev)");
        assert!(status.success(), "cc -static failed");
        for d in ["proc", "dev"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
        }
        // A root caller's sandbox is nobody on the host: it must be able to enter the root.
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let images = image_trees(&dir.path().join("tiny"));
        let image = image::tiny_image(images.path(), &dir.path().join("tiny"));
        Fixture { dir, images, image }
    }

    /// The image tree as one directory.
    pub fn tree(&self) -> PathBuf {
        self.images.path().join("tree")
    }

    /// The same tree as three layers, lowest first.
    pub fn layers(&self) -> Vec<PathBuf> {
        (0..3).map(|i| self.images.path().join(format!("l{i}"))).collect()
    }

    /// The program's host path.
    pub fn tiny(&self) -> PathBuf {
        self.dir.path().join("tiny")
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

/// The image tree (the tiny program, `proc` and `dev` mount points, `etc/motd`) as a plain
/// directory and as three layers holding its parts.
fn image_trees(tiny: &Path) -> tempfile::TempDir {
    let images = tempfile::tempdir().expect("temp dir");
    let at = |p: &str| images.path().join(p);
    for d in ["tree/proc", "tree/dev", "tree/etc", "l0/proc", "l0/dev", "l1", "l2/etc"] {
        std::fs::create_dir_all(at(d)).unwrap();
    }
    for (to, what) in [("tree/tiny", tiny), ("l1/tiny", tiny)] {
        std::fs::copy(what, at(to)).unwrap();
    }
    for motd in ["tree/etc/motd", "l2/etc/motd"] {
        std::fs::write(at(motd), b"an image\n").unwrap();
    }
    let open = |p: &Path| std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    open(images.path());
    ["tree", "l0", "l1", "l2"].iter().for_each(|d| open(&at(d)));
    images
}

/// A cgroup parent for the benches, removed at the end (with `cleanup_cgroup_parent`).
pub const CGROUP_PARENT: &str = "/isobox-bench";

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn bare(f: &Fixture, ns: Namespaces) -> SandboxBuilder {
    let mut b = Sandbox::builder();
    b.namespaces(ns);
    if ns.contains(Namespaces::MOUNT) {
        b.rootfs(f.root());
    }
    b
}

/// A change to a builder.
type Tweak = fn(&mut SandboxBuilder);

/// The sandbox variants, named after what each adds, with the program path to run in each.
pub fn variants(f: &Fixture) -> Vec<(&'static str, Sandbox, PathBuf)> {
    let host = f.tiny();
    let inside = PathBuf::from("/tiny");
    let five = Namespaces::USER | Namespaces::PID | Namespaces::MOUNT | Namespaces::UTS | Namespaces::IPC;
    let full = |b: &mut SandboxBuilder| {
        b.mount(Mount::proc("/proc")).mount(Mount::dev("/dev")).hostname("bench");
    };
    let cgroup = |b: &mut SandboxBuilder| {
        b.memory_max(256 << 20).pids_max(64).cgroup_parent(CGROUP_PARENT);
    };
    let mut out = vec![
        ("none", bare(f, Namespaces::empty()).build().unwrap(), host.clone()),
        ("user", bare(f, Namespaces::USER).build().unwrap(), host),
        ("user+pid+mount+uts+ipc", bare(f, five).build().unwrap(), inside.clone()),
    ];
    let mut b = bare(f, five);
    b.mount(Mount::proc("/proc")).mount(Mount::dev("/dev"));
    out.push(("+proc+dev", b.build().unwrap(), inside.clone()));
    let mut b = bare(f, five);
    full(&mut b);
    out.push(("+hostname (full, no net)", b.build().unwrap(), inside.clone()));
    // The full sandbox with each hardening default turned off, and with all of them off (the
    // defaults before hardening), and without isobox's init: what each costs.
    let loosen: [(&'static str, Tweak); 5] = [
        ("full, unhardened", |b| {
            b.seccomp(Seccomp::none())
                .capabilities(Capabilities::all())
                .masked_paths(false)
                .new_session(false)
                .user_mapping(UserMapping::Current);
        }),
        ("full, no seccomp filter", |b| {
            b.seccomp(Seccomp::none());
        }),
        ("full, all capabilities kept", |b| {
            b.capabilities(Capabilities::all());
        }),
        ("full, no procfs masks", |b| {
            b.masked_paths(false);
        }),
        ("full, no init", |b| {
            b.init(false);
        }),
    ];
    for (name, tweak) in loosen {
        let mut b = bare(f, five);
        full(&mut b);
        tweak(&mut b);
        out.push((name, b.build().unwrap(), inside.clone()));
    }
    let mut b = bare(f, five | Namespaces::NET);
    full(&mut b);
    out.push(("+net", b.build().unwrap(), inside.clone()));
    // An image's tree as a plain rootfs, and as an overlay of three layers with a tmpfs upper.
    let mut b = Sandbox::builder();
    b.namespaces(five).rootfs(f.tree());
    full(&mut b);
    out.push(("image: tree as rootfs (full)", b.build().unwrap(), inside.clone()));
    let mut b = Sandbox::builder();
    b.namespaces(five).overlay_root(isobox::OverlayRoot::new(f.layers()));
    full(&mut b);
    out.push(("image: overlay of 3 layers (full)", b.build().unwrap(), inside.clone()));
    let mut b = Sandbox::builder();
    b.namespaces(five).image(&f.image);
    full(&mut b);
    out.push(("image: builder.image, 3 layers (full)", b.build().unwrap(), inside.clone()));
    if is_root() {
        let mut b = bare(f, five);
        full(&mut b);
        cgroup(&mut b);
        out.push(("+cgroup (memory, pids)", b.build().unwrap(), inside.clone()));
        let mut b = bare(f, five | Namespaces::NET);
        full(&mut b);
        cgroup(&mut b);
        out.push(("all (+net +cgroup)", b.build().unwrap(), inside));
    } else {
        eprintln!("not root: the cgroup variants are left out");
    }
    out
}

/// The full sandbox (`+hostname (full, no net)`) as pools of `size`, with and without init,
/// and one for bursts (refilled between spawns, not during them: `benches/latency.rs`).
pub fn pooled_variants(f: &Fixture, size: usize) -> Vec<(&'static str, isobox::SandboxPool)> {
    let five = Namespaces::USER | Namespaces::PID | Namespaces::MOUNT | Namespaces::UTS | Namespaces::IPC;
    let full = |init: bool| {
        let mut b = bare(f, five);
        b.mount(Mount::proc("/proc")).mount(Mount::dev("/dev")).hostname("bench").init(init);
        b.build().unwrap().pool(size).unwrap()
    };
    vec![("pooled: full", full(true)), ("pooled: full, no init", full(false)), ("pooled: full, burst", full(true))]
}

/// Removes the benches' cgroup parent from every hierarchy.
pub fn cleanup_cgroup_parent() {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    for mount in info.lines().filter(|l| l.contains(" - cgroup")).filter_map(|l| l.split(' ').nth(4)) {
        let _ = std::fs::remove_dir(Path::new(mount).join(&CGROUP_PARENT[1..]));
    }
}
