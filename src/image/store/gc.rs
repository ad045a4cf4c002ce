//! Garbage collection (**parent**): with the store lock held exclusive (no import, removal or
//! unpack in progress), every blob and unpacked layer that no image of `index.json` reaches
//! is removed, and so is whatever interrupted imports left in `isobox/tmp/`. An index entry
//! whose manifest cannot be read stops it before anything is removed. A layer directory is
//! first renamed into `isobox/tmp/` (one atomic step) and removed there: a gc that fails or
//! is killed partway never leaves a partial layer where imports and `image()` would take it
//! for a whole one, only a temporary that the next gc removes.

use std::collections::HashSet;

use crate::image::store::digest::Digest;
use crate::image::store::error::{io_at, StoreError};
use crate::image::store::fsutil;
use crate::image::store::image::GcReport;
use crate::image::store::json::{self, Descriptor};
use crate::image::store::layout::Layout;
use crate::image::store::load::checked_json;
use crate::image::store::source::DirSource;
use crate::image::store::{index, media};

/// What the index reaches: blobs and diff-ids.
#[derive(Default)]
struct Reached {
    blobs: HashSet<Digest>,
    diff_ids: HashSet<Digest>,
}

pub(crate) fn gc(layout: &Layout) -> Result<GcReport, StoreError> {
    let _lock = fsutil::lock(&layout.store_lock(), true)?;
    let mut reached = Reached::default();
    let blobs = DirSource { root: layout.root.clone() };
    for entry in index::entries(layout)? {
        let d = Descriptor { media_type: entry.media_type, digest: entry.manifest, size: 0 };
        visit(&blobs, &d, &mut reached, 0)?;
    }
    let mut report = GcReport::default();
    for (name, path) in list(&layout.blobs)? {
        if Digest::from_hex(&name).is_some_and(|d| !reached.blobs.contains(&d)) {
            let len = std::fs::symlink_metadata(&path).map_or(0, |m| m.len());
            fsutil::remove_tree(&path)?;
            report.blobs_removed += 1;
            report.bytes_removed += len;
        }
    }
    for (name, path) in list(&layout.layers)? {
        if Digest::from_hex(&name).map_or(true, |d| !reached.diff_ids.contains(&d)) {
            let doomed = layout.tmp.join(fsutil::unique_name("gc"));
            fsutil::rename_dir(&path, &doomed)?;
            report.layers_removed += 1;
            fsutil::remove_tree(&doomed)?;
        }
    }
    for (_, path) in list(&layout.tmp)? {
        fsutil::remove_tree(&path)?;
        report.temporaries_removed += 1;
    }
    Ok(report)
}

/// Marks `d` and what it reaches: an index's manifests, a manifest's config and layers, a
/// config's diff-ids.
fn visit(blobs: &DirSource, d: &Descriptor, reached: &mut Reached, depth: u32) -> Result<(), StoreError> {
    if !reached.blobs.insert(d.digest.clone()) || depth > 8 {
        return Ok(());
    }
    if media::is_index(&d.media_type) {
        let v = checked_json(blobs, &d.digest)?;
        for m in json::array(&v, "manifests", &d.path(), "an index without a `manifests` array")? {
            visit(blobs, &json::descriptor(m, &d.path())?, reached, depth + 1)?;
        }
    } else if media::is_manifest(&d.media_type) {
        let manifest = json::manifest(&checked_json(blobs, &d.digest)?, &d.path())?;
        reached.blobs.insert(manifest.config.digest.clone());
        reached.blobs.extend(manifest.layers.into_iter().map(|l| l.digest));
        let config = json::config(&checked_json(blobs, &manifest.config.digest)?, &manifest.config.path())?;
        reached.diff_ids.extend(config.diff_ids);
    }
    Ok(())
}

/// The names and paths in `dir`.
fn list(dir: &std::path::Path) -> Result<Vec<(String, std::path::PathBuf)>, StoreError> {
    let entries = std::fs::read_dir(dir).map_err(io_at("listing", dir))?;
    entries
        .map(|e| e.map(|e| (e.file_name().to_string_lossy().into_owned(), e.path())).map_err(io_at("listing", dir)))
        .collect()
}
