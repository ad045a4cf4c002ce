//! A user-mode network that could not be had, typed (**parent**): which helper, which step,
//! the errno or exit status, and a hint where the host is the cause.

use std::fmt;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use nix::errno::Errno;

use super::spec::{PortForward, UserNetHelper};
use crate::hint;

/// The step of starting or stopping a helper that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserNetStep {
    /// Running `<helper> --version` once, to learn that it is there and which it is.
    Probe,
    /// Making the helper's pipes and starting it.
    Spawn,
    /// Waiting for it to report the sandbox's network up.
    Ready,
    /// Adding a port forward (slirp4netns's API socket).
    PortForward,
    /// Killing and reaping it.
    Stop,
}

impl fmt::Display for UserNetStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Probe => "probing",
            Self::Spawn => "starting",
            Self::Ready => "waiting for the network of",
            Self::PortForward => "adding a port forward through",
            Self::Stop => "stopping",
        })
    }
}

/// Why user-mode networking was refused at validation, or failed to start or stop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UserNetError {
    /// A port forward with port 0 on either side.
    #[error("port forward {forward}: port 0 is not a port (1-65535)")]
    ZeroPort {
        /// The forward.
        forward: PortForward,
    },
    /// Two forwards of the same protocol on the same host port and address (or one of them
    /// on every address, `0.0.0.0`).
    #[error("port forwards {first} and {second} listen on the same host port")]
    DuplicatePort {
        /// The first forward.
        first: PortForward,
        /// The one that repeats its host port.
        second: PortForward,
    },
    /// An MTU outside 68–65520.
    #[error("user-mode network MTU {mtu} is outside 68-65520")]
    Mtu {
        /// The MTU asked for.
        mtu: u32,
    },
    /// The helper's program is not there.
    #[error("{helper} ({program:?}) is not installed{}", hint::suffix(Some(install_hint(*helper))))]
    NotInstalled {
        /// Which helper.
        helper: UserNetHelper,
        /// The program that was looked for.
        program: PathBuf,
    },
    /// The helper is too old for what isobox needs of it.
    #[error("{helper} version {version:?} is too old (isobox needs {needs})")]
    Unsupported {
        /// Which helper.
        helper: UserNetHelper,
        /// What `--version` printed.
        version: String,
        /// The oldest version isobox works with.
        needs: &'static str,
    },
    /// A system call of isobox's own failed.
    #[error("{step} {helper}: {errno}{}", hint::suffix(io_hint(*errno)))]
    Io {
        /// Which helper.
        helper: UserNetHelper,
        /// The step.
        step: UserNetStep,
        /// The errno.
        errno: Errno,
    },
    /// The helper exited before the network was up (or its `--version` failed).
    #[error("{step} {helper}: it exited with {status}{}{}", output(stderr), hint::suffix(exit_hint(*tun_usable)))]
    Exited {
        /// Which helper.
        helper: UserNetHelper,
        /// The step.
        step: UserNetStep,
        /// Its exit status.
        status: ExitStatus,
        /// The end of what it wrote to stderr.
        stderr: String,
        /// Whether this user could open `/dev/net/tun` for reading and writing when it failed.
        tun_usable: bool,
    },
    /// The helper did not report the network up in time.
    #[error("{step} {helper}: no answer in {waited:?}")]
    Timeout {
        /// Which helper.
        helper: UserNetHelper,
        /// The step.
        step: UserNetStep,
        /// How long isobox waited.
        waited: Duration,
    },
    /// The helper refused a port forward (slirp4netns's API answered with an error).
    #[error("{helper} refused the port forward {forward}: {message}{}", hint::suffix(Some(PORT_HINT)))]
    PortRefused {
        /// Which helper.
        helper: UserNetHelper,
        /// The forward.
        forward: PortForward,
        /// The helper's own words.
        message: String,
    },
}

const PORT_HINT: &str = "the host port may be in use, or below 1024 without the privilege to bind it";

fn install_hint(helper: UserNetHelper) -> &'static str {
    match helper {
        UserNetHelper::Pasta => "install the package `passt` (apt-get install passt), which provides pasta",
        UserNetHelper::Slirp4netns => "install the package `slirp4netns` (apt-get install slirp4netns)",
    }
}

fn io_hint(errno: Errno) -> Option<&'static str> {
    match errno {
        Errno::EACCES => Some("the helper's program is not executable by this user"),
        Errno::EMFILE | Errno::ENFILE => Some("the process or the system is out of file descriptors"),
        _ => None,
    }
}

fn exit_hint(tun_usable: bool) -> Option<&'static str> {
    (!tun_usable).then_some(
        "/dev/net/tun cannot be opened for reading and writing by this user: make it mode 0666, the \
         distro's default (chmod 0666 /dev/net/tun), or load the tun module (modprobe tun)",
    )
}

fn output(stderr: &str) -> String {
    let text = stderr.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}
