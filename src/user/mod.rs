//! User namespaces and the ids inside: the **parent** decides and writes the maps, the
//! **child** switches ids.
//!
//! - spec: [`spec`] (`UserMapping`, `IdRange`, public).
//! - plan: [`plan`] (at `build()`: the maps and who writes them, for the [`caller`]);
//!   [`ids`] (per spawn: the command's ids, checked against the maps).
//! - apply: [`write_maps`] (**parent**, while the child waits); [`apply`] (**child**: the id
//!   switch).
//! - describe: [`describe`].

pub(crate) mod apply;
pub(crate) mod caller;
pub(crate) mod describe;
pub(crate) mod ids;
pub(crate) mod plan;
pub(crate) mod spec;
pub(crate) mod write_maps;
