//! Container images (**parent**): layers many images share, unpacked safely (issue
//! "Images"). So far: [`unpack`], the layer unpacker in overlayfs's format, and [`store`],
//! an OCI layout store that imports images and caches their unpacked layers, [`run`], an
//! image as a sandbox's root and its commands' defaults, and [`build`], which commits a
//! sandbox's upper directory as a new layer and image; the registry comes on top of them.

pub(crate) mod build;
pub(crate) mod error;
pub(crate) mod run;
pub(crate) mod store;
pub(crate) mod unpack;
