//! An entry's metadata as the archive gives it (**parent**): the `tar` crate iterates raw
//! headers only, and isobox reads the metadata entries before an entry itself (GNU long name
//! `L` and long link `K`, PAX extended `x` and global `g` headers), each refused past
//! [`MAX_EXTENSION`] bytes *before* it is read: the crate would read them whole, and a tiny
//! gzip'd layer could then hold a name of gigabytes. Also used for the store's outer archives.

use std::io::{self, Read};

use crate::image::error::UnpackErrorKind;

/// The most a long name, long link or PAX header entry may have (PATH_MAX is 4096; a PAX
/// header of many xattrs stays far below this).
pub(crate) const MAX_EXTENSION: u64 = 64 << 10;

/// What a PAX header or GNU long name/link said about the next entry.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax: Option<Vec<u8>>,
}

/// An entry's metadata, with what its metadata entries said applied.
#[derive(Debug)]
pub(crate) struct Resolved {
    /// The header, with a PAX uid and gid written into it.
    pub(crate) header: tar::Header,
    /// The entry's name.
    pub(crate) path: Vec<u8>,
    /// A link's target, if the entry has one.
    pub(crate) link: Option<Vec<u8>>,
    /// The data's size (a PAX `size` wins over the header's).
    pub(crate) size: u64,
}

/// One entry: its metadata and its data.
pub(crate) struct Item<'d> {
    pub(crate) meta: Resolved,
    pub(crate) data: &'d mut dyn Read,
}

fn malformed(what: &'static str) -> UnpackErrorKind {
    UnpackErrorKind::Archive(io::Error::new(io::ErrorKind::InvalidData, what))
}

/// Whether `kind` is a metadata entry for the entries after it.
pub(crate) fn is_extension(kind: tar::EntryType) -> bool {
    kind.is_gnu_longname()
        || kind.is_gnu_longlink()
        || kind.is_pax_local_extensions()
        || kind.is_pax_global_extensions()
}

impl Pending {
    /// Reads `entry` if it is a metadata entry (whether it was), refusing one larger than
    /// [`MAX_EXTENSION`] unread.
    pub(crate) fn absorb<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<bool, UnpackErrorKind> {
        let kind = entry.header().entry_type();
        if !is_extension(kind) {
            return Ok(false);
        }
        let size = entry.header().entry_size().map_err(UnpackErrorKind::Archive)?;
        if size > MAX_EXTENSION {
            return Err(UnpackErrorKind::HeaderTooLarge { size, limit: MAX_EXTENSION });
        }
        if kind.is_pax_global_extensions() {
            return Ok(true); // applies to the whole archive: nothing isobox uses
        }
        let mut data = Vec::with_capacity(size as usize);
        entry.take(size).read_to_end(&mut data).map_err(UnpackErrorKind::Archive)?;
        if (data.len() as u64) < size {
            return Err(UnpackErrorKind::Archive(io::Error::from(io::ErrorKind::UnexpectedEof)));
        }
        let slot = if kind.is_gnu_longname() {
            &mut self.long_name
        } else if kind.is_gnu_longlink() {
            &mut self.long_link
        } else {
            &mut self.pax
        };
        if slot.replace(data).is_some() {
            return Err(malformed("two metadata entries of one kind for one entry"));
        }
        Ok(true)
    }

    /// Whether metadata entries wait for an entry (at the archive's end: a cut archive).
    pub(crate) fn is_empty(&self) -> bool {
        self.long_name.is_none() && self.long_link.is_none() && self.pax.is_none()
    }

    /// The metadata of the entry `header`, what was pending applied (and cleared).
    pub(crate) fn resolve(&mut self, header: &tar::Header) -> Result<Resolved, UnpackErrorKind> {
        let mut header = header.clone();
        let mut size = header.entry_size().map_err(UnpackErrorKind::Archive)?;
        let (mut path, mut link) = (None, None);
        if let Some(pax) = self.pax.take() {
            for record in tar::PaxExtensions::new(&pax) {
                let record = record.map_err(|_| malformed("a malformed PAX record"))?;
                let number = || {
                    let text = std::str::from_utf8(record.value_bytes()).ok();
                    text.and_then(|t| t.parse::<u64>().ok()).ok_or_else(|| malformed("a PAX number that is not one"))
                };
                match record.key_bytes() {
                    b"path" => path = Some(record.value_bytes().to_vec()),
                    b"linkpath" => link = Some(record.value_bytes().to_vec()),
                    b"size" => size = number()?,
                    b"uid" => header.set_uid(number()?),
                    b"gid" => header.set_gid(number()?),
                    _ => {}
                }
            }
        }
        // A GNU long name ends in NUL; it wins over a PAX path, as in the `tar` crate.
        let strip = |mut v: Vec<u8>| {
            if v.last() == Some(&0) {
                v.pop();
            }
            v
        };
        let path = self.long_name.take().map(strip).or(path).unwrap_or_else(|| header.path_bytes().into_owned());
        let link =
            self.long_link.take().map(strip).or(link).or_else(|| header.link_name_bytes().map(|l| l.into_owned()));
        Ok(Resolved { header, path, link, size })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(entries: &[(u8, &str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (kind, name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::new(*kind));
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn first(bytes: &[u8]) -> Result<Resolved, UnpackErrorKind> {
        let mut a = tar::Archive::new(bytes);
        let mut pending = Pending::default();
        for entry in a.entries().unwrap().raw(true) {
            let mut entry = entry.unwrap();
            if !pending.absorb(&mut entry)? {
                return pending.resolve(entry.header());
            }
        }
        panic!("no entry");
    }

    #[test]
    fn pax_records_and_long_names_apply_to_the_next_entry() {
        let pax = b"16 path=p/x.txt\n12 uid=4242\n";
        let r = first(&archive(&[(b'x', "pax", pax), (b'0', "short", b"")])).unwrap();
        assert_eq!((r.path.as_slice(), r.header.uid().unwrap()), (&b"p/x.txt"[..], 4242));
        let r = first(&archive(&[(b'L', "././@LongLink", b"long/name\0"), (b'x', "pax", pax), (b'0', "s", b"")]));
        assert_eq!(r.unwrap().path, b"long/name");
    }

    #[test]
    fn a_large_or_repeated_metadata_entry_is_refused() {
        let big = vec![b'a'; MAX_EXTENSION as usize + 1];
        let e = first(&archive(&[(b'L', "././@LongLink", &big), (b'0', "s", b"")])).unwrap_err();
        assert!(matches!(e, UnpackErrorKind::HeaderTooLarge { size, .. } if size == MAX_EXTENSION + 1), "{e}");
        let e = first(&archive(&[(b'K', "l", b"a\0"), (b'K', "l", b"b\0"), (b'2', "s", b"")])).unwrap_err();
        assert!(matches!(e, UnpackErrorKind::Archive(_)), "{e}");
        assert!(first(&archive(&[(b'x', "pax", b"99 path=x\n"), (b'0', "s", b"")])).is_err());
    }
}
