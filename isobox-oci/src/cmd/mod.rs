//! One module a command.

pub mod create;
pub mod delete;
pub mod features;
pub mod kill;
pub mod list;
pub mod ps;
pub mod start;
pub mod state;
