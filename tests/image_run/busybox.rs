//! A small image with a real userland (Debian's static busybox) for the image-run tests:
//! three layers written here, imported into a store through an OCI layout directory.

use std::path::Path;

use isobox::{Image, ImageStore, UnpackOptions};
use serde_json::json;

use super::common;
use super::oci::{layout_files, write_dir, Comp, Img, Layer};

pub const BUSYBOX: &str = "/bin/busybox";

/// The applets the tests call, as links to busybox.
const APPLETS: &[&str] = &[
    "sh", "cat", "echo", "id", "ls", "pwd", "mkdir", "rm", "touch", "grep", "test", "env", "mount", "tr", "wc", "sleep",
];

/// One entry of a layer archive, owned 0:0 as an image's files are.
pub enum E {
    Dir(&'static str, u32),
    File(String, Vec<u8>, u32),
    Link(String, String),
}

pub fn file(name: &str, data: &[u8]) -> E {
    E::File(name.into(), data.to_vec(), 0o644)
}

pub fn tar(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        match e {
            E::Dir(name, mode) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(*mode);
                h.set_size(0);
                b.append_data(&mut h, name, &[][..]).unwrap();
            }
            E::File(name, data, mode) => {
                h.set_mode(*mode);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, name, &data[..]).unwrap();
            }
            E::Link(name, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                b.append_link(&mut h, name, target).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

/// The base: busybox and its links, /etc with an app user, a few files to delete and hide.
pub fn base() -> Vec<u8> {
    let mut entries = vec![E::Dir("bin", 0o755), E::File("bin/busybox".into(), std::fs::read(BUSYBOX).unwrap(), 0o755)];
    entries.extend(APPLETS.iter().map(|a| E::Link(format!("bin/{a}"), "busybox".into())));
    entries.extend([
        E::Dir("etc", 0o755),
        file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n"),
        file("etc/group", b"root:x:0:\nstaff:x:50:app\napp:x:1001:\n"),
        file("etc/motd", b"base\n"),
        E::Dir("proc", 0o755),
        E::Dir("tmp", 0o1777),
        E::Dir("data", 0o755),
        file("data/gone.txt", b"gone\n"),
        file("data/keep.txt", b"keep\n"),
        E::Dir("opaque", 0o755),
        file("opaque/x", b"x\n"),
    ]);
    tar(&entries)
}

/// The middle layer: changes /etc/motd, deletes /data/gone.txt, makes /opaque opaque
/// (when the store's directory takes the mark), adds /usr/x with its parent left out.
pub fn middle(opaque: bool) -> Vec<u8> {
    let mut entries = vec![E::Dir("etc", 0o755), file("etc/motd", b"mid\n"), E::Dir("data", 0o755)];
    entries.push(file("data/.wh.gone.txt", b""));
    entries.push(E::Dir("opaque", 0o755));
    if opaque {
        entries.push(file("opaque/.wh..wh..opq", b""));
    }
    entries.extend([file("opaque/y", b"y\n"), file("usr/lib/x", b"x\n")]);
    tar(&entries)
}

/// The top layer: the working directory and a file.
pub fn top() -> Vec<u8> {
    tar(&[E::Dir("work", 0o755), file("work/top.txt", b"top\n")])
}

/// An image of `layers` with this `config` (its `config` object).
pub fn image(layers: Vec<Vec<u8>>, config: serde_json::Value) -> Img {
    let mut img = Img::new(layers.into_iter().map(|t| Layer::new(t, Comp::Plain)).collect(), &[]);
    img.config["config"] = config;
    img.seal();
    img
}

/// The default config: `sh -c` with Cmd printing what the tests check.
pub fn config() -> serde_json::Value {
    json!({
        "Entrypoint": ["/bin/sh", "-c"],
        "Cmd": ["echo A=$A B=$B; pwd; id -u; id -g"],
        "Env": ["PATH=/bin", "A=from-image", "B=also"],
        "WorkingDir": "/work",
    })
}

/// A store in a directory the sandbox's root can search, and `imgs` imported into it.
pub struct Store {
    pub dir: tempfile::TempDir,
    pub store: ImageStore,
}

impl Store {
    pub fn new(options: UnpackOptions) -> Store {
        let dir = tempfile::tempdir_in(super::layers::layer_base().0).unwrap();
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let store = ImageStore::open(dir.path().join("store")).unwrap().with_unpack_options(options);
        Store { dir, store }
    }

    /// Imports `img` as `name`.
    pub fn add(&self, img: &Img, name: &str) -> Image {
        let layout = self.dir.path().join(format!("layout-{}", name.replace(':', "-")));
        write_dir(&layout, &layout_files(&[(img, name)]));
        self.store.import_oci_dir(&layout, Some(name)).unwrap().image
    }

    /// The store's unpacked layers: every entry, its type, mode, owner and contents.
    pub fn layers_snapshot(&self) -> String {
        format!("{:?}", super::layers::snapshot(&self.store.path().join("isobox/layers")))
    }
}

/// Whether busybox is here (CI installs busybox-static); else the test is skipped.
pub fn require_busybox() -> bool {
    common::require(Path::new(BUSYBOX).is_file(), "needs /bin/busybox (Debian's busybox-static)")
}

/// Options for a rootless store, or a root caller's whose sandboxes have a user namespace
/// with the default mapping.
pub fn userns_options() -> UnpackOptions {
    UnpackOptions::for_user_namespace(&isobox::UserMapping::Unprivileged).unwrap()
}

/// Whether the store's directory takes `user.*` opaque marks (not a tmpfs before 6.6).
pub fn takes_opaque_marks() -> bool {
    super::layers::layer_base().1
}
