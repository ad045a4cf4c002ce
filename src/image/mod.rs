//! Container images (**parent**): layers many images share, unpacked safely (issue
//! "Images"). So far: [`unpack`], the layer unpacker in overlayfs's format, and [`store`],
//! an OCI layout store that imports images and caches their unpacked layers, [`run`], an
//! image as a sandbox's root and its commands' defaults, [`build`], which commits a
//! sandbox's upper directory as a new layer and image, and `registry` (feature `registry`),
//! pull and push.

pub(crate) mod build;
pub(crate) mod error;
#[cfg(feature = "registry")]
pub(crate) mod registry;
pub(crate) mod run;
pub(crate) mod store;
pub(crate) mod unpack;
