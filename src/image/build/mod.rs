//! Building images (**parent**): Docker's build step as a library call. A sandbox runs over
//! an image with a directory upper (`Upper::Dir`, `keep_upper`); its upper directory, what it
//! changed in overlayfs's format, is committed as a new layer on top of the image:
//!
//! - [`walk`]: the upper directory, sorted, nothing followed, overlay marks read;
//! - [`layer`]: the layer tar writer (whiteouts as `.wh.<name>`, opaque directories as
//!   `.wh..wh..opq`, hard links, owners through an [`spec::OwnerMap`]), deterministic;
//! - [`blob`]: the tar compressed into a blob of the store's, hashed while written;
//! - [`config`]: the new config (the base's, the diff-id and a history entry appended, the
//!   changes of [`spec::CommitOptions`]) and manifest;
//! - [`commit`]: all of it published into the store, as an import publishes.

pub(crate) mod blob;
pub(crate) mod commit;
pub(crate) mod config;
pub(crate) mod error;
pub(crate) mod layer;
pub(crate) mod spec;
pub(crate) mod walk;
