//! The metadata entries before a layer's entry (GNU long name `L` and long link `K`, PAX
//! headers `x` and `g`) are read by isobox, and one past 64 KiB is refused before it is read:
//! a tiny compressed layer cannot make the unpacker hold a name of gigabytes. PAX records
//! still apply (a path, a size past what the header can hold), and names in errors are cut.
use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;

use isobox::{unpack_layer, UnpackErrorKind, UnpackOptions};

/// A raw header block of type `kind`, name `name`, `size` bytes of data.
fn header(kind: u8, name: &str, size: u64) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_entry_type(tar::EntryType::new(kind));
    h.set_mode(0o644);
    h.set_size(size);
    h.set_uid(0);
    h.set_gid(0);
    h.set_cksum();
    h.as_bytes().to_vec()
}

/// `data` padded to whole blocks.
fn padded(data: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    v.resize(data.len().div_ceil(512) * 512, 0);
    v
}

/// A stream of `head`, then `b'a'`s up to `len` bytes in all, counting what is read of it.
struct Endless {
    head: Vec<u8>,
    pos: u64,
    len: u64,
    read: Rc<Cell<u64>>,
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min((self.len - self.pos) as usize);
        for (i, b) in buf[..n].iter_mut().enumerate() {
            let at = self.pos as usize + i;
            *b = if at < self.head.len() { self.head[at] } else { b'a' };
        }
        self.pos += n as u64;
        self.read.set(self.pos);
        Ok(n)
    }
}

#[test]
fn rootless_a_huge_long_name_long_link_or_pax_entry_is_refused_unread() {
    for kind in [b'L', b'K', b'x', b'g'] {
        let dir = tempfile::tempdir().unwrap();
        let read = Rc::new(Cell::new(0));
        let size = 256u64 << 20;
        let archive =
            Endless { head: header(kind, "././@LongLink", size), pos: 0, len: size + 4096, read: read.clone() };
        let started = std::time::Instant::now();
        let e = unpack_layer(archive, dir.path(), &UnpackOptions::default()).unwrap_err();
        let kind = kind as char;
        assert!(matches!(e.kind, UnpackErrorKind::HeaderTooLarge { size: s, .. } if s == size), "{kind}: {e}");
        assert!(read.get() < 1 << 20, "{kind}: {} bytes of the stream were read", read.get());
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{kind}: took {:?}", started.elapsed());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}

#[test]
fn rootless_pax_paths_and_a_pax_size_past_the_header_apply() {
    // A PAX header naming the next entry (a name too long for the header) and giving its
    // size, the entry's header saying 0 (as Go writes a size the header cannot hold).
    let long = format!("{}/file", "d".repeat(200));
    let data: Vec<u8> = (0..1500u32).map(|i| (i % 251) as u8).collect();
    let records = [format!("path={long}\n"), "size=1500\n".to_string()];
    let mut pax = String::new();
    for r in &records {
        // A record's length counts its own digits.
        let mut n = r.len() + 2;
        while format!("{n} {r}").len() != n {
            n += 1;
        }
        pax += &format!("{n} {r}");
    }
    let mut archive = header(b'x', "pax", pax.len() as u64);
    archive.extend(padded(pax.as_bytes()));
    archive.extend(header(b'0', "placeholder", 0));
    archive.extend(padded(&data));
    archive.extend(header(b'0', "after", 3));
    archive.extend(padded(b"ok\n"));
    archive.extend([0u8; 1024]);
    let dir = tempfile::tempdir().unwrap();
    let report = unpack_layer(&archive[..], dir.path(), &UnpackOptions::default()).unwrap();
    assert_eq!(report.entries, 2, "the long-named file and `after`");
    assert_eq!(std::fs::read(dir.path().join(&long)).unwrap(), data);
    assert_eq!(std::fs::read(dir.path().join("after")).unwrap(), b"ok\n");
    assert!(!dir.path().join("placeholder").exists());
    // Cut inside the data read beside the iterator: refused, as any cut stream.
    let cut = 512 * 3 + 1000;
    let dir = tempfile::tempdir().unwrap();
    let e = unpack_layer(&archive[..cut], dir.path(), &UnpackOptions::default()).unwrap_err();
    assert!(matches!(e.kind, UnpackErrorKind::Archive(_)), "{e}");
    // A PAX size that contradicts a header's non-zero size: refused.
    let mut bad = header(b'x', "pax", 11);
    bad.extend(padded(b"11 size=20\n"));
    bad.extend(header(b'0', "f", 10));
    bad.extend(padded(&[1u8; 20]));
    bad.extend([0u8; 1024]);
    let e = unpack_layer(&bad[..], tempfile::tempdir().unwrap().path(), &UnpackOptions::default()).unwrap_err();
    assert!(matches!(e.kind, UnpackErrorKind::Archive(_)), "{e}");
}

#[test]
fn rootless_a_name_in_an_error_is_cut_to_4_kib() {
    let long = format!("{}/../../outside\0", "d/".repeat(30_000));
    let mut archive = header(b'L', "././@LongLink", long.len() as u64);
    archive.extend(padded(long.as_bytes()));
    archive.extend(header(b'0', "short", 0));
    archive.extend([0u8; 1024]);
    let dir = tempfile::tempdir().unwrap();
    let e = unpack_layer(&archive[..], dir.path(), &UnpackOptions::default()).unwrap_err();
    assert!(matches!(e.kind, UnpackErrorKind::ParentDir), "{e}");
    assert!(e.entry.as_os_str().len() <= 4096 + 3, "{} bytes", e.entry.as_os_str().len());
    assert!(e.entry.to_string_lossy().ends_with("..."));
    assert!(e.to_string().len() < 8192);
}
