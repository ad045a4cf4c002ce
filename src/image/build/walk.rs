//! Walking an upper directory (**parent**): depth first, each directory's entries sorted by
//! name (bytes), so the same tree always gives the same order. Nothing is followed: each
//! entry is looked at with `fstatat(AT_SYMLINK_NOFOLLOW)` and opened, if it is a file or a
//! directory, with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` and `O_NOFOLLOW` from its
//! directory's descriptor, and its type checked again on the descriptor. A directory's
//! overlay marks are read here: opaque (`trusted.` or `user.overlay.opaque` = `y`, of the
//! namespace the overlay used, or both when not told), and the redirect and metacopy marks a
//! layer cannot express, which are refused. With a limit on the entries, the names listed in
//! all (what the walk holds in memory) are held to it.

use std::ffi::{CStr, OsStr, OsString};
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstat, fstatat, FileStat, SFlag};

use super::error::{walk_at, BuildError, ENTRIES};

const OPAQUE: [&CStr; 2] = [c"trusted.overlay.opaque", c"user.overlay.opaque"];
const REDIRECT: [&CStr; 2] = [c"trusted.overlay.redirect", c"user.overlay.redirect"];
const METACOPY: [&CStr; 2] = [c"trusted.overlay.metacopy", c"user.overlay.metacopy"];

/// What an entry of the upper directory is.
pub(crate) enum Kind {
    /// A directory, and whether it is opaque (hides the lower layers' content).
    Dir {
        opaque: bool,
    },
    /// A regular file, open for reading.
    File(File),
    /// A symlink and its target.
    Symlink(Vec<u8>),
    /// Overlay's whiteout (a 0:0 character device): a deletion.
    Whiteout,
    /// Another character or block device.
    Device {
        block: bool,
    },
    Fifo,
    /// A socket: not part of a layer (skipped, as Docker does).
    Socket,
}

/// One entry: its path ('/'-separated, relative to the upper directory), its status, what it is.
pub(crate) struct Entry {
    pub(crate) path: Vec<u8>,
    pub(crate) stat: FileStat,
    pub(crate) kind: Kind,
}

impl Entry {
    pub(crate) fn path_buf(&self) -> PathBuf {
        PathBuf::from(OsStr::from_bytes(&self.path))
    }
}

struct Frame {
    dir: OwnedFd,
    prefix: Vec<u8>,
    names: Vec<OsString>,
    next: usize,
}

/// A walk in progress: one open directory per level.
pub(crate) struct Walk {
    stack: Vec<Frame>,
    marks: Marks,
    budget: Budget,
}

/// Which overlay xattrs are marks: `Some(true)` the `trusted.` ones, `Some(false)` the
/// `user.` ones, `None` both.
#[derive(Clone, Copy)]
pub(crate) struct Marks(pub(crate) Option<bool>);

impl Marks {
    /// The names of `pair` (trusted, user) this walk reads.
    fn of<'p>(self, pair: &'p [&'static CStr; 2]) -> &'p [&'static CStr] {
        match self.0 {
            Some(true) => &pair[..1],
            Some(false) => &pair[1..],
            None => &pair[..],
        }
    }
}

/// The names listed so far, and how many may be.
struct Budget {
    listed: u64,
    max: Option<u64>,
}

fn how(flags: OFlag) -> OpenHow {
    OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW | OFlag::O_NOCTTY)
        .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS | ResolveFlag::RESOLVE_NO_MAGICLINKS)
}

fn open_at(dir: BorrowedFd<'_>, name: &OsStr, flags: OFlag) -> Result<OwnedFd, Errno> {
    loop {
        match crate::sys::fd::openat2(dir, name, how(flags)) {
            Err(Errno::EAGAIN | Errno::EINTR) => continue,
            other => return other,
        }
    }
}

fn kind_of(stat: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits())
}

impl Walk {
    /// A walk of the directory `dir` (the directory itself is not an entry), reading `marks`,
    /// listing at most `max_names` names in all.
    pub(crate) fn new(dir: &Path, marks: Marks, max_names: Option<u64>) -> Result<Walk, BuildError> {
        use std::os::unix::fs::OpenOptionsExt;
        let opened = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_DIRECTORY).open(dir);
        let fd = OwnedFd::from(opened.map_err(walk_at("opening", ""))?);
        let mut budget = Budget { listed: 0, max: max_names };
        let names = list(fd.as_fd(), b"", &mut budget)?;
        Ok(Walk { stack: vec![Frame { dir: fd, prefix: Vec::new(), names, next: 0 }], marks, budget })
    }

    /// The next entry, `None` at the end. A directory comes before its own entries.
    pub(crate) fn next_entry(&mut self) -> Result<Option<Entry>, BuildError> {
        loop {
            let Some(frame) = self.stack.last_mut() else { return Ok(None) };
            let Some(name) = frame.names.get(frame.next).cloned() else {
                self.stack.pop();
                continue;
            };
            frame.next += 1;
            let mut path = frame.prefix.clone();
            path.extend_from_slice(name.as_bytes());
            let p = || PathBuf::from(OsStr::from_bytes(&path));
            if name.as_bytes().starts_with(b".wh.") {
                return Err(BuildError::WhiteoutName { path: p() });
            }
            let dir = frame.dir.as_fd();
            let stat = fstatat(Some(dir.as_raw_fd()), name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW);
            let stat = match stat {
                Err(Errno::ENOENT) => continue, // gone since the listing
                other => other.map_err(|e| walk_at("fstatat", p())(e.into()))?,
            };
            let kind = match kind_of(&stat) {
                SFlag::S_IFDIR => {
                    let (fd, stat, opaque) = open_dir(dir, &name, &path, self.marks)?;
                    let names = list(fd.as_fd(), &path, &mut self.budget)?;
                    let mut prefix = path.clone();
                    prefix.push(b'/');
                    self.stack.push(Frame { dir: fd, prefix, names, next: 0 });
                    return Ok(Some(Entry { path, stat, kind: Kind::Dir { opaque } }));
                }
                SFlag::S_IFREG => {
                    let (file, stat) = open_file(dir, &name, &path, self.marks)?;
                    return Ok(Some(Entry { path, stat, kind: Kind::File(file) }));
                }
                SFlag::S_IFLNK => {
                    let target = nix::fcntl::readlinkat(Some(dir.as_raw_fd()), name.as_os_str());
                    Kind::Symlink(target.map_err(|e| walk_at("readlinkat", p())(e.into()))?.into_vec())
                }
                SFlag::S_IFCHR if stat.st_rdev == 0 => Kind::Whiteout,
                SFlag::S_IFCHR => Kind::Device { block: false },
                SFlag::S_IFBLK => Kind::Device { block: true },
                SFlag::S_IFIFO => Kind::Fifo,
                _ => Kind::Socket,
            };
            return Ok(Some(Entry { path, stat, kind }));
        }
    }
}

/// The names in `dir`, sorted, without `.` and `..`, counted in `budget` (past its limit, an error).
fn list(dir: BorrowedFd<'_>, path: &[u8], budget: &mut Budget) -> Result<Vec<OsString>, BuildError> {
    let failed = |e: Errno| walk_at("listing", PathBuf::from(OsStr::from_bytes(path)))(e.into());
    let copy =
        dir.try_clone_to_owned().map_err(walk_at("copying a descriptor of", PathBuf::from(OsStr::from_bytes(path))))?;
    let mut listing = nix::dir::Dir::from(copy).map_err(failed)?;
    let mut names = Vec::new();
    for entry in listing.iter() {
        let name = entry.map_err(failed)?.file_name().to_bytes().to_vec();
        if name != b"." && name != b".." {
            budget.listed += 1;
            if let Some(limit) = budget.max.filter(|&m| budget.listed > m) {
                return Err(BuildError::Limit { path: PathBuf::from(OsStr::from_bytes(path)), what: ENTRIES, limit });
            }
            names.push(OsString::from_vec(name));
        }
    }
    names.sort();
    Ok(names)
}

/// Opens the directory `name` of `dir`; its status and whether it is opaque.
fn open_dir(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    path: &[u8],
    marks: Marks,
) -> Result<(OwnedFd, FileStat, bool), BuildError> {
    let p = || PathBuf::from(OsStr::from_bytes(path));
    let fd = open_at(dir, name, OFlag::O_RDONLY | OFlag::O_DIRECTORY).map_err(|e| walk_at("opening", p())(e.into()))?;
    let stat = fstat(fd.as_raw_fd()).map_err(|e| walk_at("fstat", p())(e.into()))?;
    refuse_marks(fd.as_fd(), path, marks.of(&REDIRECT))?;
    let mut opaque = false;
    for &xattr in marks.of(&OPAQUE) {
        let value = crate::sys::build::get(fd.as_fd(), xattr).map_err(walk_at("reading the xattrs of", p()))?;
        opaque |= value.as_deref() == Some(b"y");
    }
    Ok((fd, stat, opaque))
}

/// Opens the regular file `name` of `dir` for reading (a FIFO put in its place since the
/// listing is not waited on, and is refused as changed).
fn open_file(dir: BorrowedFd<'_>, name: &OsStr, path: &[u8], marks: Marks) -> Result<(File, FileStat), BuildError> {
    let p = || PathBuf::from(OsStr::from_bytes(path));
    let fd = open_at(dir, name, OFlag::O_RDONLY | OFlag::O_NONBLOCK).map_err(|e| walk_at("opening", p())(e.into()))?;
    let stat = fstat(fd.as_raw_fd()).map_err(|e| walk_at("fstat", p())(e.into()))?;
    if kind_of(&stat) != SFlag::S_IFREG {
        return Err(BuildError::Changed { path: p() });
    }
    refuse_marks(fd.as_fd(), path, marks.of(&METACOPY))?;
    Ok((File::from(fd), stat))
}

/// Refuses a redirect or metacopy mark (their content is in a lower layer).
fn refuse_marks(fd: BorrowedFd<'_>, path: &[u8], marks: &[&'static CStr]) -> Result<(), BuildError> {
    let p = || PathBuf::from(OsStr::from_bytes(path));
    for &xattr in marks {
        if crate::sys::build::get(fd, xattr).map_err(walk_at("reading the xattrs of", p()))?.is_some() {
            let xattr = xattr.to_str().unwrap_or("an overlay xattr");
            return Err(BuildError::OverlayFeature { path: p(), xattr });
        }
    }
    Ok(())
}

/// The mode bits of `stat` (permissions, setuid, setgid, sticky).
pub(crate) fn mode_bits(stat: &FileStat) -> u32 {
    stat.st_mode & 0o7777
}
