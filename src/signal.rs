//! Signals, typed (**parent**): what `Child::signal` sends and an `ExitReport` names.

use std::fmt;

/// A signal number Linux accepts (1 to 64), with names for the standard ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signal(i32);

impl Signal {
    /// Hangup (1).
    pub const HUP: Signal = Signal(libc::SIGHUP);
    /// Interrupt from the keyboard (2).
    pub const INT: Signal = Signal(libc::SIGINT);
    /// Quit from the keyboard (3).
    pub const QUIT: Signal = Signal(libc::SIGQUIT);
    /// Abort (6).
    pub const ABRT: Signal = Signal(libc::SIGABRT);
    /// Kill, which cannot be caught or ignored (9).
    pub const KILL: Signal = Signal(libc::SIGKILL);
    /// User-defined signal 1 (10).
    pub const USR1: Signal = Signal(libc::SIGUSR1);
    /// Segmentation fault (11).
    pub const SEGV: Signal = Signal(libc::SIGSEGV);
    /// User-defined signal 2 (12).
    pub const USR2: Signal = Signal(libc::SIGUSR2);
    /// Broken pipe (13).
    pub const PIPE: Signal = Signal(libc::SIGPIPE);
    /// Alarm clock (14).
    pub const ALRM: Signal = Signal(libc::SIGALRM);
    /// Termination request (15).
    pub const TERM: Signal = Signal(libc::SIGTERM);
    /// Continue if stopped (18).
    pub const CONT: Signal = Signal(libc::SIGCONT);
    /// Stop, which cannot be caught or ignored (19).
    pub const STOP: Signal = Signal(libc::SIGSTOP);
    /// CPU time limit exceeded (24), as an RLIMIT_CPU soft limit sends.
    pub const XCPU: Signal = Signal(libc::SIGXCPU);
    /// File size limit exceeded (25).
    pub const XFSZ: Signal = Signal(libc::SIGXFSZ);
    /// Window size change (28).
    pub const WINCH: Signal = Signal(libc::SIGWINCH);

    /// The signal with this number, if Linux has one (1 to 64, real-time signals included).
    #[must_use]
    pub const fn new(number: i32) -> Option<Signal> {
        if number >= 1 && number <= 64 {
            Some(Signal(number))
        } else {
            None
        }
    }

    /// Its number.
    #[must_use]
    pub const fn number(self) -> i32 {
        self.0
    }

    /// "SIGTERM" for a standard signal, None for the others.
    #[must_use]
    pub fn name(self) -> Option<&'static str> {
        const NAMES: [&str; 31] = [
            "SIGHUP",
            "SIGINT",
            "SIGQUIT",
            "SIGILL",
            "SIGTRAP",
            "SIGABRT",
            "SIGBUS",
            "SIGFPE",
            "SIGKILL",
            "SIGUSR1",
            "SIGSEGV",
            "SIGUSR2",
            "SIGPIPE",
            "SIGALRM",
            "SIGTERM",
            "SIGSTKFLT",
            "SIGCHLD",
            "SIGCONT",
            "SIGSTOP",
            "SIGTSTP",
            "SIGTTIN",
            "SIGTTOU",
            "SIGURG",
            "SIGXCPU",
            "SIGXFSZ",
            "SIGVTALRM",
            "SIGPROF",
            "SIGWINCH",
            "SIGIO",
            "SIGPWR",
            "SIGSYS",
        ];
        NAMES.get(usize::try_from(self.0 - 1).ok()?).copied()
    }
}

impl fmt::Display for Signal {
    /// "SIGTERM", or "signal 40" for one without a standard name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "signal {}", self.0),
        }
    }
}

impl From<Signal> for i32 {
    fn from(signal: Signal) -> i32 {
        signal.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_kernels_numbering() {
        let named = [
            Signal::HUP,
            Signal::INT,
            Signal::QUIT,
            Signal::ABRT,
            Signal::KILL,
            Signal::USR1,
            Signal::SEGV,
            Signal::USR2,
            Signal::PIPE,
            Signal::ALRM,
            Signal::TERM,
            Signal::CONT,
            Signal::STOP,
            Signal::XCPU,
            Signal::XFSZ,
            Signal::WINCH,
        ];
        for signal in named {
            // strsignal's abbreviation is the name without "SIG" (nix's Signal agrees).
            let nix_name = nix::sys::signal::Signal::try_from(signal.number()).unwrap().as_str();
            assert_eq!(signal.name(), Some(nix_name), "{}", signal.number());
        }
        for n in 1..=31 {
            let nix_name = nix::sys::signal::Signal::try_from(n).unwrap().as_str();
            assert_eq!(Signal::new(n).unwrap().to_string(), nix_name, "{n}");
        }
        assert_eq!(Signal::new(40).unwrap().to_string(), "signal 40");
        assert_eq!((Signal::new(0), Signal::new(65)), (None, None));
    }
}
