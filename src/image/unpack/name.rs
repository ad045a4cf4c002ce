//! An entry's name, checked and split (**parent**): relative, no `..`, `./` and `//`
//! folded, into its parent directory's components and its last one.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use crate::image::error::UnpackErrorKind;

/// A checked name: the components of its parent directory and its last component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    pub parent: Vec<OsString>,
    pub last: OsString,
}

/// Checks and splits `raw` (the bytes of a tar name).
pub(crate) fn parse(raw: &[u8]) -> Result<Name, UnpackErrorKind> {
    if raw.first() == Some(&b'/') {
        return Err(UnpackErrorKind::Absolute);
    }
    let mut parts: Vec<OsString> = Vec::new();
    for part in raw.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err(UnpackErrorKind::ParentDir),
            _ => parts.push(OsStr::from_bytes(part).to_owned()),
        }
    }
    let last = parts.pop().ok_or(UnpackErrorKind::Empty)?;
    Ok(Name { parent: parts, last })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> (Vec<String>, String) {
        let n = parse(raw.as_bytes()).unwrap();
        (n.parent.iter().map(|p| p.to_string_lossy().into_owned()).collect(), n.last.to_string_lossy().into_owned())
    }

    #[test]
    fn names_are_folded_and_split() {
        assert_eq!(ok("etc/passwd"), (vec!["etc".into()], "passwd".into()));
        assert_eq!(ok("./usr//bin/"), (vec!["usr".into()], "bin".into()));
        assert_eq!(ok("a"), (vec![], "a".into()));
    }

    #[test]
    fn absolute_parent_and_empty_names_are_refused() {
        assert!(matches!(parse(b"/etc/passwd"), Err(UnpackErrorKind::Absolute)));
        assert!(matches!(parse(b"a/../../etc"), Err(UnpackErrorKind::ParentDir)));
        assert!(matches!(parse(b".."), Err(UnpackErrorKind::ParentDir)));
        assert!(matches!(parse(b"./"), Err(UnpackErrorKind::Empty)));
        assert!(matches!(parse(b""), Err(UnpackErrorKind::Empty)));
    }
}
