//! User-mode networking (**parent** code only): pasta or slirp4netns started on the host for a
//! sandbox that has its own user and network namespaces, so that an unprivileged caller's
//! sandbox gets a network without any privilege on the host.
//!
//! [`spec`] is what the user asks for, [`plan`] checks it and writes the helper's command line,
//! [`start`] runs the helper for a sandbox's pid and waits for its network, [`helper`] is the
//! handle that kills and reaps it. [`probe`] learns once per program that it is there and its
//! version, [`spawner`] forks helpers from a thread that lives as long as the process (the
//! death signal follows the forking thread), [`api`] speaks slirp4netns's API socket.

pub(crate) mod api;
pub(crate) mod error;
pub(crate) mod helper;
pub(crate) mod plan;
pub(crate) mod probe;
pub(crate) mod spawner;
pub(crate) mod spec;
pub(crate) mod start;
