//! File system helpers of the store (**parent**): temporary names, durable writes and copies,
//! renames into place, locks, and removing trees that rootless unpacking made read-only.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::fcntl::{Flock, FlockArg};

use crate::image::store::digest::{Digest, Hashing};
use crate::image::store::error::{io_at, StoreError};

/// A name no other process or thread uses: `<prefix>-<pid>-<n>-<nanoseconds>`.
pub(crate) fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{prefix}-{}-{n}-{nanos}", std::process::id())
}

/// Flushes `dir`'s entries (a rename into it) to disk.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_at("syncing the directory", dir))
}

/// Writes `bytes` to the new file `tmp`, syncs it and renames it to `dest` (replacing it).
pub(crate) fn write_atomically(tmp: &Path, dest: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let written = (|| {
        let mut f = File::options().write(true).create_new(true).open(tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    let renamed = written.and_then(|()| std::fs::rename(tmp, dest));
    if let Err(e) = renamed {
        let _ = std::fs::remove_file(tmp);
        return Err(io_at("writing", dest)(e));
    }
    sync_dir(dest.parent().unwrap_or(Path::new(".")))
}

/// Creates `dest` with `bytes` unless it exists, atomically: written to `tmp`, then linked
/// (which fails if another process made `dest` first).
pub(crate) fn create_atomically(tmp: &Path, dest: &Path, bytes: &[u8]) -> Result<bool, StoreError> {
    let written = (|| {
        let mut f = File::options().write(true).create_new(true).open(tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    let linked = written.and_then(|()| std::fs::hard_link(tmp, dest));
    let _ = std::fs::remove_file(tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(io_at("creating", dest)(e)),
    }
}

/// The store's lock `path`, taken shared (importers, removals) or exclusive (gc), waiting.
pub(crate) fn lock(path: &Path, exclusive: bool) -> Result<Flock<File>, StoreError> {
    let file = File::options().read(true).write(true).create(true).truncate(false).open(path);
    let file = file.map_err(io_at("opening the lock", path))?;
    let how = if exclusive { FlockArg::LockExclusive } else { FlockArg::LockShared };
    Flock::lock(file, how).map_err(|(_, errno)| io_at("locking", path)(errno.into()))
}

/// Renames the directory `from` to `to` (on the same file system). Moving a directory needs
/// write access to it (its `..` changes): a read-only one is made 0700 first.
pub(crate) fn rename_dir(from: &Path, to: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::rename(from, to) {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            std::fs::set_permissions(from, std::fs::Permissions::from_mode(0o700)).map_err(io_at("renaming", from))?;
            std::fs::rename(from, to).map_err(io_at("renaming", from))
        }
        other => other.map_err(io_at("renaming", from)),
    }
}

/// Removes the file or tree `path` (nothing if it is gone). A rootless unpack leaves
/// read-only directories (a layer's 0555 `/usr/bin`), which its owner cannot empty: on
/// EACCES every directory of the tree is made 0700 first.
pub(crate) fn remove_tree(path: &Path) -> Result<(), StoreError> {
    let remove = |p: &Path| match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p),
        Ok(_) => std::fs::remove_file(p),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    };
    match remove(path) {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            open_up(path).map_err(io_at("making a tree writable to remove it", path))?;
            remove(path).map_err(io_at("removing", path))
        }
        other => other.map_err(io_at("removing", path)),
    }
}

/// Every directory of the tree at `path` (not following symlinks) mode 0700.
fn open_up(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut stack: Vec<PathBuf> = vec![path.to_owned()];
    while let Some(dir) = stack.pop() {
        if !std::fs::symlink_metadata(&dir)?.is_dir() {
            continue;
        }
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    Ok(())
}

/// Where a copy failed: reading the source, or writing the store.
pub(crate) enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

/// Copies `src` into the new file `path` (at most `limit` + 1 bytes, when known), hashing it,
/// and syncs it; its digest and length.
pub(crate) fn copy_synced(src: impl Read, path: &Path, limit: Option<u64>) -> Result<(Digest, u64), CopyError> {
    let mut out = File::options().write(true).create_new(true).open(path).map_err(CopyError::Write)?;
    let mut src = Hashing::new(src.take(limit.map_or(u64::MAX, |l| l.saturating_add(1))));
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.write_all(&buf[..n]).map_err(CopyError::Write)?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(CopyError::Read(e)),
        }
    }
    out.sync_all().map_err(CopyError::Write)?;
    Ok(src.finish())
}
