//! The child: what runs between clone and exec (**child**, but for `plan`, which the
//! **parent** prepares, and `describe`, where the parent reads a failure).
//!
//! - plan: [`plan`], the two halves the child reads (the sandbox's fixed setup and one
//!   spawn's launch).
//! - apply (**child**): [`recipe`], the table of contents, with its own steps in [`control`],
//!   [`fds`] and [`exec`]; each other step is a wing's `apply`. [`record`] is the fixed-size
//!   failure record, naming a [`step`].
//! - describe (**parent**): [`describe`] turns a record into a [`setup_error`].

pub(crate) mod control;
pub(crate) mod describe;
pub(crate) mod exec;
pub(crate) mod fds;
pub(crate) mod init;
pub(crate) mod init_shared;
pub(crate) mod join_recipe;
pub(crate) mod plan;
pub(crate) mod privileges;
pub(crate) mod program;
pub(crate) mod recipe;
pub(crate) mod record;
pub(crate) mod setup_error;
pub(crate) mod step;
