//! What a commit is asked for (**parent**: plain data): the new image's name, the config
//! changes, the layer's compression and how its owners are written.

use std::time::SystemTime;

use crate::image::store::limits::StoreLimits;
use crate::image::store::media::Compression;
use crate::user::spec::IdRange;

/// How a committed layer's blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LayerCompression {
    /// gzip (`application/vnd.oci.image.layer.v1.tar+gzip`), what every tool reads: the default.
    #[default]
    Gzip,
    /// zstd (`…tar+zstd`, feature `zstd`).
    #[cfg(feature = "zstd")]
    Zstd,
    /// None (`…tar`).
    None,
}

impl LayerCompression {
    pub(crate) fn store(self) -> Compression {
        match self {
            LayerCompression::Gzip => Compression::Gzip,
            #[cfg(feature = "zstd")]
            LayerCompression::Zstd => Compression::Zstd,
            LayerCompression::None => Compression::None,
        }
    }
}

/// How the owners of an upper directory's files are written into a layer. The default writes
/// them as stored on the host: a rootless sandbox's files are the caller's (its root is the
/// caller), a root caller's sandbox with a user namespace writes as `nobody` (65534), one
/// without writes as the ids the program ran as. With the sandbox's id maps the layer holds
/// the ids as the sandbox saw them (the caller's uid becomes 0), as an image should.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnerMap {
    uids: Vec<IdRange>,
    gids: Vec<IdRange>,
}

impl OwnerMap {
    /// Host ids as written (`IdRange::outside` becomes `inside`), as a user namespace maps
    /// them; an id outside every range is written as stored.
    #[must_use]
    pub fn new(uids: impl IntoIterator<Item = IdRange>, gids: impl IntoIterator<Item = IdRange>) -> OwnerMap {
        OwnerMap { uids: uids.into_iter().collect(), gids: gids.into_iter().collect() }
    }

    /// The host uid `uid` and gid `gid` as a sandbox whose root is them sees them: both 0.
    #[must_use]
    pub fn root_is(uid: u32, gid: u32) -> OwnerMap {
        OwnerMap::new([IdRange::new(0, uid, 1)], [IdRange::new(0, gid, 1)])
    }

    /// The ids the layer gets for the host ids `(uid, gid)`.
    #[must_use]
    pub fn map(&self, (uid, gid): (u32, u32)) -> (u32, u32) {
        (inside(&self.uids, uid), inside(&self.gids, gid))
    }
}

fn inside(ranges: &[IdRange], id: u32) -> u32 {
    let found = ranges.iter().find(|r| id >= r.outside && id - r.outside < r.count);
    found.map_or(id, |r| r.inside + (id - r.outside))
}

/// How [`write_layer_with`](crate::write_layer_with) writes a layer: the owners, which
/// namespace of overlay xattrs marks the upper directory, and how large the layer may be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct LayerOptions {
    pub(crate) owners: OwnerMap,
    /// `Some(true)`: `trusted.overlay.*` only; `Some(false)`: `user.overlay.*` only; `None`: both.
    pub(crate) trusted_xattrs: Option<bool>,
    pub(crate) limits: StoreLimits,
}

impl LayerOptions {
    /// Owners as stored, the marks of both xattr namespaces read (as
    /// [`write_layer`](crate::write_layer)), no limit.
    pub fn new() -> LayerOptions {
        LayerOptions::default()
    }

    /// How the owners of the files are written (default: as stored).
    pub fn owners(mut self, owners: OwnerMap) -> LayerOptions {
        self.owners = owners;
        self
    }

    /// Reads the overlay marks (opaque, redirect, metacopy) of one namespace only: `trusted.`
    /// (`true`: an overlay mounted without `userxattr`, a root caller's sandbox without a user
    /// namespace) or `user.` (`false`: an overlay with `userxattr`). Set it to the namespace
    /// the overlay used whenever the sandbox is not trusted: in a `trusted.` overlay the
    /// sandbox can set `user.overlay.opaque` on its own directories (it lands in the upper
    /// directory as a plain xattr), which read as a mark would hide the base's files in the
    /// new layer. Default: both namespaces are read.
    pub fn trusted_xattrs(mut self, trusted: bool) -> LayerOptions {
        self.trusted_xattrs = Some(trusted);
        self
    }

    /// Refuses an upper directory whose layer would be past `limits`' `max_layer_bytes` (the
    /// uncompressed tar: headers, contents and padding, counted from each file's size before
    /// it is read, so a sparse file of terabytes is refused at once) or `max_layer_entries`
    /// (also bounding the names the walk holds); `max_blob_bytes` is not used here. Default:
    /// no limit.
    pub fn limits(mut self, limits: StoreLimits) -> LayerOptions {
        self.limits = limits;
        self
    }
}

/// What [`ImageStore::commit`](crate::ImageStore::commit) makes: the new image's name in the
/// store, its config changes (each unset one is the base's), the layer's compression and
/// owners. Without [`created`](Self::created) the config has no creation time, so the same
/// base, upper directory and options give the same image digest.
///
/// The commit is held to the store's [`StoreLimits`] (set with
/// [`ImageStore::with_limits`](crate::ImageStore::with_limits)): an upper directory written by
/// a sandbox you do not trust needs them, since the default is no limit and one
/// `truncate -s 16T f` in the sandbox would make the commit read and write terabytes of zeros
/// (and millions of empty files, as many entries).
#[derive(Debug, Clone)]
#[must_use]
pub struct CommitOptions {
    pub(crate) reference: String,
    pub(crate) cmd: Option<Vec<String>>,
    pub(crate) entrypoint: Option<Vec<String>>,
    pub(crate) env: Vec<String>,
    pub(crate) working_dir: Option<String>,
    pub(crate) user: Option<String>,
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) created: Option<SystemTime>,
    pub(crate) created_by: Option<String>,
    pub(crate) compression: LayerCompression,
    pub(crate) owners: OwnerMap,
}

impl CommitOptions {
    /// A commit named `reference` in the store (`org.opencontainers.image.ref.name`; an image
    /// of that name is replaced in the index), the base's config otherwise unchanged.
    pub fn new(reference: impl Into<String>) -> CommitOptions {
        CommitOptions {
            reference: reference.into(),
            cmd: None,
            entrypoint: None,
            env: Vec::new(),
            working_dir: None,
            user: None,
            labels: Vec::new(),
            created: None,
            created_by: None,
            compression: LayerCompression::default(),
            owners: OwnerMap::default(),
        }
    }

    /// `Cmd`: the default arguments (or command). Unlike a Dockerfile's ENTRYPOINT, setting
    /// the entrypoint does not clear it.
    pub fn cmd<S: Into<String>>(mut self, cmd: impl IntoIterator<Item = S>) -> CommitOptions {
        self.cmd = Some(cmd.into_iter().map(Into::into).collect());
        self
    }

    /// `Entrypoint`: the program and its first arguments (empty: none).
    pub fn entrypoint<S: Into<String>>(mut self, entrypoint: impl IntoIterator<Item = S>) -> CommitOptions {
        self.entrypoint = Some(entrypoint.into_iter().map(Into::into).collect());
        self
    }

    /// Sets `NAME=value` in `Env`, replacing the base's `NAME` (as Dockerfile's ENV).
    pub fn env(mut self, name: &str, value: &str) -> CommitOptions {
        self.env.push(format!("{name}={value}"));
        self
    }

    /// `WorkingDir`.
    pub fn working_dir(mut self, dir: impl Into<String>) -> CommitOptions {
        self.working_dir = Some(dir.into());
        self
    }

    /// `User`: `user`, `uid`, `user:group` or `uid:gid`.
    pub fn user(mut self, user: impl Into<String>) -> CommitOptions {
        self.user = Some(user.into());
        self
    }

    /// Sets the label `key` (`config.Labels`).
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> CommitOptions {
        self.labels.push((key.into(), value.into()));
        self
    }

    /// The creation time written in the config and its history entry (default: none, for
    /// reproducible digests).
    pub fn created(mut self, when: SystemTime) -> CommitOptions {
        self.created = Some(when);
        self
    }

    /// The history entry's `created_by`: what made the layer (e.g. the command run).
    pub fn created_by(mut self, what: impl Into<String>) -> CommitOptions {
        self.created_by = Some(what.into());
        self
    }

    /// The layer blob's compression (default: gzip).
    pub fn compression(mut self, compression: LayerCompression) -> CommitOptions {
        self.compression = compression;
        self
    }

    /// How the owners of the upper directory's files are written (default: as stored).
    pub fn owners(mut self, owners: OwnerMap) -> CommitOptions {
        self.owners = owners;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_map_like_a_user_namespace() {
        let map = OwnerMap::new([IdRange::new(0, 1000, 1), IdRange::new(1, 100_000, 65536)], []);
        assert_eq!(map.map((1000, 1000)), (0, 1000));
        assert_eq!(map.map((100_000, 5)), (1, 5));
        assert_eq!(map.map((165_535, 0)), (65536, 0));
        assert_eq!(map.map((165_536, 0)), (165_536, 0), "outside every range: as stored");
        assert_eq!(OwnerMap::root_is(65534, 65534).map((65534, 65534)), (0, 0));
        assert_eq!(OwnerMap::default().map((7, 8)), (7, 8));
    }
}
