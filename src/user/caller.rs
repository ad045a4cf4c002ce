//! Who is asking (**parent**): the calling process's effective ids and user name, read once
//! at `build()`.

use nix::unistd::{Gid, Uid};

/// Who is asking: the effective ids and name of the calling process.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub uid: u32,
    pub gid: u32,
    pub name: Option<String>,
}

impl Caller {
    pub fn current() -> Caller {
        let uid = Uid::effective();
        let name = nix::unistd::User::from_uid(uid).ok().flatten().map(|u| u.name);
        Caller { uid: uid.as_raw(), gid: Gid::effective().as_raw(), name }
    }

    pub fn is_root(&self) -> bool {
        self.uid == 0
    }
}
