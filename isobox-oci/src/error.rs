//! What a command of the runtime fails with: the step, the object and, where the host or the
//! configuration is the cause, what to do.

use std::io;
use std::path::PathBuf;

/// Every failure of a runtime command.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// The command line is wrong.
    #[error("{0} (see `isobox-oci --help`)")]
    Usage(String),
    /// config.json asks for something this runtime does not do: refused, never ignored.
    #[error("config.json: {field} is not supported by isobox-oci: {why}")]
    Unsupported { field: String, why: String },
    /// config.json has a value that cannot work.
    #[error("config.json: {field}: {why}")]
    Invalid { field: String, why: String },
    /// config.json could not be read or parsed.
    #[error("reading {path}: {why}")]
    Config { path: PathBuf, why: String },
    /// A file or directory of the runtime's state or the bundle.
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// No container of that id.
    #[error("container {id} does not exist (no state under {root})")]
    NotFound { id: String, root: PathBuf },
    /// A container of that id exists already.
    #[error("container {id} exists already: delete it first, or choose another id")]
    Exists { id: String },
    /// The container is not in a state the command can act on.
    #[error("container {id} is {status}: {what}")]
    State { id: String, status: &'static str, what: &'static str },
    /// An id that cannot name a state directory.
    #[error(
        "container id {0:?} is not valid: use letters, digits, '.', '_', '+', ':' and '-' only, not starting with '.'"
    )]
    BadId(String),
    /// The library refused the sandbox or failed to set it up (boxed: the library's errors
    /// name their objects in full).
    #[error("{step}: {source}")]
    Sandbox {
        step: &'static str,
        #[source]
        source: Box<isobox::Error>,
    },
    /// A hook failed (prestart and createRuntime fail `create`; the others are warnings).
    #[error("hook {which}[{index}] ({path}): {why}")]
    Hook { which: &'static str, index: usize, path: String, why: String },
    /// Sending a signal to the container failed.
    #[error("sending signal {signal} to container {id} (pid {pid}): {errno}")]
    Signal { id: String, pid: i32, signal: i32, errno: nix::errno::Errno },
}

impl OciError {
    /// An I/O failure on `path`, while doing `what`.
    pub fn io(what: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> OciError {
        let path = path.into();
        move |source| OciError::Io { what, path, source }
    }

    /// A config field refused.
    pub fn unsupported(field: impl Into<String>, why: impl Into<String>) -> OciError {
        OciError::Unsupported { field: field.into(), why: why.into() }
    }

    /// A library failure at `step`.
    pub fn sandbox(step: &'static str) -> impl FnOnce(isobox::Error) -> OciError {
        move |source| OciError::Sandbox { step, source: Box::new(source) }
    }

    /// A config field that cannot work.
    pub fn invalid(field: impl Into<String>, why: impl Into<String>) -> OciError {
        OciError::Invalid { field: field.into(), why: why.into() }
    }
}
