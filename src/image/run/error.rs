//! Why an image's run defaults cannot be used (**parent**: at `build()` for its `User` and
//! `Env`, and when its command is asked for).

use std::io;
use std::path::PathBuf;

/// An image whose config cannot be run as it says.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageRunError {
    /// The config's `User` names a user the image's `/etc/passwd` does not have (or the image
    /// has no `/etc/passwd`).
    #[error("image {image}: user {user:?} is not in the image's /etc/passwd. Hint: give a numeric uid, or set the command's own ids")]
    UnknownUser {
        /// The image (its reference, or manifest digest).
        image: String,
        /// The user name.
        user: String,
    },
    /// The config's `User` names a group the image's `/etc/group` does not have.
    #[error("image {image}: group {group:?} is not in the image's /etc/group. Hint: give a numeric gid")]
    UnknownGroup {
        /// The image.
        image: String,
        /// The group name.
        group: String,
    },
    /// A `User` that is not `user`, `uid`, `user:group` or `uid:gid`.
    #[error("image {image}: User {user:?} is not `user`, `uid`, `user:group` or `uid:gid`")]
    BadUser {
        /// The image.
        image: String,
        /// The `User` as the config gives it.
        user: String,
    },
    /// An `Env` entry without `=`.
    #[error("image {image}: Env entry {entry:?} is not NAME=value")]
    BadEnv {
        /// The image.
        image: String,
        /// The entry.
        entry: String,
    },
    /// The image's `/etc/passwd` or `/etc/group` could not be read from its layers.
    #[error("image {image}: reading {path}: {source}")]
    Read {
        /// The image.
        image: String,
        /// The file, in its layer.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The image has neither `Entrypoint` nor `Cmd`, and no arguments were given.
    #[error("image {image} names no command (no Entrypoint and no Cmd). Hint: give the command's arguments")]
    NoCommand {
        /// The image.
        image: String,
    },
    /// The image's `/etc/group` lists its user in more groups than a process can have.
    #[error("image {image}: user {user:?} is in more than {max} groups of the image's /etc/group")]
    TooManyGroups {
        /// The image.
        image: String,
        /// The user name.
        user: String,
        /// The most a process can have (NGROUPS_MAX).
        max: usize,
    },
    /// Without a user namespace the image's `User` would be host ids, and it names root's (0),
    /// or -1, which the kernel takes for "leave unchanged": the caller's own.
    #[error("image {image}: User {user:?} is {kind} {id} and the sandbox has no user namespace, so the program would run with host {kind} {id}. Hint: give the sandbox a user namespace (root inside is then an unprivileged id on the host), or set the command's own ids")]
    HostRoot {
        /// The image.
        image: String,
        /// The `User` as the config gives it.
        user: String,
        /// `uid` or `gid`.
        kind: &'static str,
        /// The id (0, or 4294967295).
        id: u32,
    },
    /// The sandbox was not built with [`SandboxBuilder::image`](crate::SandboxBuilder::image).
    #[error("the sandbox runs no image (build it with SandboxBuilder::image)")]
    NotAnImage,
}
