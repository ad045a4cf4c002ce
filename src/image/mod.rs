//! Container images (**parent**): layers many images share, unpacked safely (issue
//! "Images"). So far: [`unpack`], the layer unpacker in overlayfs's format; the store,
//! import, overlay roots, build and registry come on top of it.

pub(crate) mod error;
pub(crate) mod unpack;
