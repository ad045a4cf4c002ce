//! What [`SandboxBuilder::image`](crate::SandboxBuilder::image) records (**parent**: plain
//! data; checked and compiled at `build()` by [`super::plan`]).

use std::path::PathBuf;

use super::layers::topmost_once;
use crate::image::store::image::{Image, ImageConfig};

/// The image a sandbox runs: its name for messages, its config, its layers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageSpec {
    /// Its reference, or its manifest digest.
    pub name: String,
    pub config: ImageConfig,
    /// The layer directories, lowest first, each once (where it is topmost).
    pub layers: Vec<PathBuf>,
}

impl ImageSpec {
    pub fn of(image: &Image) -> ImageSpec {
        let name = image.reference().map_or_else(|| image.manifest_digest().to_string(), str::to_string);
        ImageSpec { name, config: image.config().clone(), layers: topmost_once(&image.layer_dirs()) }
    }
}
