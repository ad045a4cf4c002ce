//! Networking inside the sandbox: a network namespace has loopback only, brought up by the
//! child ([`apply`]). Veth, user-mode networking and bandwidth limits will live here.

pub(crate) mod apply;
