//! isobox's own cgroupfs layer for v1, v2 and hybrid hosts (**parent**, but for `apply`). A
//! leaf: it uses nothing of isobox but `sys` and `hint`; its errors are its own, and the
//! crate's `error` module rolls them up.
//!
//! - spec: [`spec`] (what the user asked for, validated into [`settings`]: the v1/v2 file
//!   table, with `io_weight`: v1's CFQ or BFQ file), [`cpulist`], [`error`].
//! - plan: [`plan`] (at `build()`: the settings and the host's [`layout`]; per spawn: one
//!   directory per hierarchy), [`parent`] and `parent_dirs` (where those directories go),
//!   `hold` (which parents this process uses, and removing those it made once it is done).
//! - apply: [`spawn`] owns when each step runs; [`group`] makes the cgroup (each write read
//!   back through `readback`), kills and removes it; [`join`] and [`apply`] let the child join
//!   it itself on v1 hosts.
//! - describe: [`describe`] (a failed join), [`stats`] (what the sandbox used).

pub(crate) mod apply;
pub(crate) mod controller;
pub(crate) mod cpulist;
pub(crate) mod describe;
mod dir;
pub(crate) mod error;
mod fs;
pub(crate) mod group;
mod hold;
mod io_weight;
pub(crate) mod join;
pub(crate) mod layout;
pub(crate) mod left;
mod parent;
mod parent_dirs;
pub(crate) mod plan;
mod readback;
pub(crate) mod settings;
pub(crate) mod spawn;
pub(crate) mod spec;
pub(crate) mod stats;
