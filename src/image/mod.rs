//! Container images (**parent**): layers many images share, unpacked safely (issue
//! "Images"). So far: [`unpack`], the layer unpacker in overlayfs's format, and [`store`],
//! an OCI layout store that imports images and caches their unpacked layers; `registry`
//! (feature `registry`), pull and push. Overlay roots and build come on top of them.

pub(crate) mod error;
#[cfg(feature = "registry")]
pub(crate) mod registry;
pub(crate) mod store;
pub(crate) mod unpack;
