//! isobox's init as an executable descriptor (**parent**): the program `build.rs` compiles
//! from `src/sys/init/`, written once per process into a sealed memfd, which the sandbox's
//! first process executes with `execveat(fd, "", AT_EMPTY_PATH)`.
//!
//! A memfd and not a file: nothing on disk to find, replace or clean up, and it is reached by
//! descriptor from inside any root. Sealed (no write, grow, shrink or further seals) so that
//! nobody holding it, the child included, can change what later sandboxes run. Close-on-exec,
//! so the caller's other children never see it.
//!
//! # Safety
//! The `unsafe` blocks are `memfd_create` on a literal name and taking ownership of the
//! descriptor it returns.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::MetadataExt;
use std::sync::Mutex;

/// The init's executable, compiled by `build.rs`.
static INIT_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/isobox-init"));

/// MFD_EXEC (Linux 6.3): the memfd may be executed even where `vm.memfd_noexec` makes
/// memfds non-executable by default.
const MFD_EXEC: libc::c_uint = 0x10;

struct InitFile {
    file: File,
    dev: u64,
    ino: u64,
}

static INIT: Mutex<Option<InitFile>> = Mutex::new(None);

/// The init's descriptor, at `min` or above: the shared one (made on first use), or a
/// close-on-exec copy of it when its number is lower, which the caller owns. Checked on every
/// call: if the caller closed it (and the number may now be another file's), a new one is
/// made and the old number left alone.
pub fn init_fd_at_or_above(min: RawFd) -> io::Result<(RawFd, Option<OwnedFd>)> {
    let mut init = INIT.lock().unwrap_or_else(|p| p.into_inner());
    if init.as_ref().is_some_and(|current| !is_same_file(current)) {
        // Not ours any more: forget it without closing whatever the number now is.
        std::mem::forget(init.take());
    }
    if init.is_none() {
        *init = Some(make()?);
    }
    let file = &init.as_ref().expect("made above").file;
    if file.as_raw_fd() >= min {
        return Ok((file.as_raw_fd(), None));
    }
    let copy = super::fd::dup_at_or_above(file.as_fd(), min)?;
    Ok((copy.as_raw_fd(), Some(copy)))
}

fn is_same_file(init: &InitFile) -> bool {
    nix::sys::stat::fstat(init.file.as_raw_fd()).is_ok_and(|st| st.st_dev == init.dev && st.st_ino == init.ino)
}

fn make() -> io::Result<InitFile> {
    let mut file = memfd(b"isobox-init\0")?;
    file.write_all(INIT_ELF)?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    let seals = nix::fcntl::SealFlag::from_bits_truncate(seals);
    nix::fcntl::fcntl(file.as_raw_fd(), nix::fcntl::FcntlArg::F_ADD_SEALS(seals))?;
    let meta = file.metadata()?;
    Ok(InitFile { dev: meta.dev(), ino: meta.ino(), file })
}

fn memfd(name: &[u8]) -> io::Result<File> {
    let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    // SAFETY: `name` is NUL-terminated and outlives the call.
    let mut fd = unsafe { libc::memfd_create(name.as_ptr().cast(), flags | MFD_EXEC) };
    if fd < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
        // Kernels before 6.3 know no MFD_EXEC (and make every memfd executable).
        // SAFETY: as above.
        fd = unsafe { libc::memfd_create(name.as_ptr().cast(), flags) };
    }
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: memfd_create just returned this descriptor; nothing else owns it.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}
