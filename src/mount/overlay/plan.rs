//! An overlay root compiled at `build()` (**parent**: pure data; the child mounts it, see
//! [`super::apply`]): the layers' paths as the kernel gets them, top-most first, the staging
//! directory it is assembled at, and the options.
//!
//! The overlay and its upper are attached at a *staging* host directory in the child's own
//! mount namespace (the first of /tmp, /mnt, /run… that holds no layer, upper directory or bind
//! source, as for the default root): the upper is a tmpfs, or a bind of the spawn's own
//! directory, mounted there first, so that `upperdir` and `workdir` are the same short strings
//! in every spawn; the overlay goes on top and is the new root.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use super::compiled::{OverlayApi, OverlayPlan, UpperPlan};
use super::error::OverlayError;
use super::spec::{OverlayRoot, Upper, MAX_OVERLAY_LAYERS};
use crate::error::ConfigError;

/// The kernel version from which overlayfs takes one layer per option (`lowerdir+`).
pub(crate) const LOWERDIR_PLUS: (u32, u32) = (6, 8);
/// The kernel version from which overlayfs mounts in a user namespace (with `userxattr`).
pub(crate) const USERNS_OVERLAY: (u32, u32) = (5, 11);
/// The longest string fsconfig(2) takes as one value, less its NUL.
pub(crate) const MAX_VALUE: usize = 255;

/// What the overlay's compilation needs besides the user's request (seams for tests).
pub(crate) struct OverlayInput<'a> {
    pub user_namespace: bool,
    pub kernel: Option<(u32, u32)>,
    /// Host paths the overlay's staging directory must not hide, and that must not overlap a
    /// directory upper: the bind sources, as given and resolved.
    pub keep_visible: Vec<PathBuf>,
    /// Candidate staging directories, in order of preference.
    pub candidates: &'a [&'a str],
    pub page: usize,
}

/// Checks `root` and compiles it.
pub(crate) fn compile(root: &OverlayRoot, input: &OverlayInput<'_>) -> Result<OverlayPlan, ConfigError> {
    check_request(root)?;
    if input.user_namespace {
        crate::validate::kernel_at_least("an overlay root in a user namespace", USERNS_OVERLAY, input.kernel)?;
    }
    let layers = canonical_layers(&root.layers)?;
    no_overlap(&layers)?;
    let upper = match &root.upper {
        Upper::Tmpfs { size } => {
            let mut options = vec![(c("mode"), c("0755"))];
            options.extend(size.map(|s| (c("size"), c(&s.to_string()))));
            UpperPlan::Tmpfs { options }
        }
        Upper::Dir(dir) => {
            let parent = upper_dir(dir, &layers)?;
            no_bind_over(&parent, &input.keep_visible)?;
            UpperPlan::Dir { parent, keep: root.keep_upper }
        }
    };
    let mut taken: Vec<&Path> = layers.iter().chain(&input.keep_visible).map(PathBuf::as_path).collect();
    if let UpperPlan::Dir { parent, .. } = &upper {
        taken.push(parent);
    }
    let staging = staging(input.candidates, &taken).ok_or(ConfigError::NoStagingDirectory)?;
    let (upper_path, work_path) = (cpath(&staging.join("upper")), cpath(&staging.join("work")));
    let userxattr = input.user_namespace;
    let volatile = matches!(upper, UpperPlan::Dir { keep: false, .. });
    let legacy = root.legacy_mount || input.kernel.map_or(true, |k| k < LOWERDIR_PLUS);
    let flags = Flags { upper: &upper_path, work: &work_path, userxattr, volatile };
    let (lowers, base, api) = if legacy { legacy_form(&layers, &flags, input.page)? } else { plus_form(&layers)? };
    let staging_c = cpath(&staging);
    Ok(OverlayPlan {
        layers: root.layers.clone(),
        lowers,
        base,
        staging,
        staging_c,
        upper_path,
        work_path,
        upper,
        api,
        userxattr,
        volatile,
    })
}

fn check_request(root: &OverlayRoot) -> Result<(), OverlayError> {
    match root.layers.len() {
        0 => return Err(OverlayError::NoLayers),
        n if n > MAX_OVERLAY_LAYERS => return Err(OverlayError::TooManyLayers { layers: n, max: MAX_OVERLAY_LAYERS }),
        _ => {}
    }
    match root.upper {
        Upper::Tmpfs { size: Some(0) } => Err(OverlayError::TmpfsSizeZero),
        Upper::Tmpfs { .. } if root.keep_upper => Err(OverlayError::KeepTmpfs),
        _ => Ok(()),
    }
}

/// Each layer resolved (links followed, so what the kernel is given is what was checked), a
/// directory, free of the option syntax's separators. Top-most last, as given.
fn canonical_layers(layers: &[PathBuf]) -> Result<Vec<PathBuf>, ConfigError> {
    let mut out = Vec::with_capacity(layers.len());
    for (index, path) in layers.iter().enumerate() {
        crate::validate::absolute("overlay layer", path)?;
        let layer = |source| OverlayError::Layer { index, path: path.clone(), source };
        let canonical = std::fs::canonicalize(path).map_err(layer)?;
        if !canonical.is_dir() {
            return Err(layer(std::io::Error::from_raw_os_error(libc::ENOTDIR)).into());
        }
        no_separator(&canonical)?;
        out.push(canonical);
    }
    Ok(out)
}

fn no_separator(path: &Path) -> Result<(), OverlayError> {
    match path.as_os_str().as_bytes().iter().find(|b| matches!(b, b':' | b',' | b'\\')) {
        Some(b) => Err(OverlayError::Separator { path: path.to_path_buf(), character: char::from(*b) }),
        None => Ok(()),
    }
}

/// No layer is, or is inside, another. Sorted by components, a directory's descendants follow
/// it directly, so neighbours are enough.
fn no_overlap(layers: &[PathBuf]) -> Result<(), OverlayError> {
    let mut sorted: Vec<&PathBuf> = layers.iter().collect();
    sorted.sort();
    match sorted.windows(2).find(|w| w[1].starts_with(w[0])) {
        Some(w) => Err(OverlayError::Overlap { inner: w[1].clone(), outer: w[0].clone() }),
        None => Ok(()),
    }
}

/// The upper directory resolved: a directory, neither inside a layer nor holding one.
fn upper_dir(dir: &Path, layers: &[PathBuf]) -> Result<PathBuf, ConfigError> {
    crate::validate::absolute("overlay upper directory", dir)?;
    let unusable = |source| OverlayError::UpperDir { path: dir.to_path_buf(), source };
    let canonical = std::fs::canonicalize(dir).map_err(unusable)?;
    if !canonical.is_dir() {
        return Err(unusable(std::io::Error::from_raw_os_error(libc::ENOTDIR)).into());
    }
    for layer in layers {
        if canonical.starts_with(layer) || layer.starts_with(&canonical) {
            let (inner, outer) = if canonical.starts_with(layer) { (&canonical, layer) } else { (layer, &canonical) };
            return Err(OverlayError::Overlap { inner: inner.clone(), outer: outer.clone() }.into());
        }
    }
    Ok(canonical)
}

/// No bind source is, holds or is inside the upper directory: through a writable one a sandbox
/// could rename or replace other spawns' `upper` and `work` before their children mount them
/// (by path), through any one read what they wrote.
fn no_bind_over(upper: &Path, sources: &[PathBuf]) -> Result<(), OverlayError> {
    match sources.iter().find(|s| s.starts_with(upper) || upper.starts_with(s)) {
        Some(source) => Err(OverlayError::BindOverUpper { upper: upper.to_path_buf(), source_path: source.clone() }),
        None => Ok(()),
    }
}

/// The first candidate that exists, holds none of `taken` and is inside none of them.
fn staging(candidates: &[&str], taken: &[&Path]) -> Option<PathBuf> {
    candidates
        .iter()
        .filter_map(|c| std::fs::canonicalize(c).ok().filter(|p| p.is_dir()))
        .find(|dir| !taken.iter().any(|t| t.starts_with(dir) || dir.starts_with(t)))
}

/// The options a legacy string carries besides the layers.
struct Flags<'a> {
    upper: &'a CString,
    work: &'a CString,
    userxattr: bool,
    volatile: bool,
}

type Forms = (Vec<CString>, Option<CString>, OverlayApi);

/// `lowerdir+` values: absolute, or relative to the common parent where one is over 255 bytes.
fn plus_form(layers: &[PathBuf]) -> Result<Forms, ConfigError> {
    let top_first = || layers.iter().rev();
    if top_first().all(|l| l.as_os_str().len() <= MAX_VALUE) {
        return Ok((top_first().map(|l| cpath(l)).collect(), None, OverlayApi::LowerdirPlus));
    }
    let base = common_parent(layers);
    let relative: Vec<&Path> = top_first().map(|l| l.strip_prefix(&base).unwrap_or(l)).collect();
    if let Some(long) = relative.iter().find(|r| r.as_os_str().len() > MAX_VALUE) {
        return Err(OverlayError::PathTooLong { path: base.join(long), len: long.as_os_str().len() }.into());
    }
    Ok((relative.iter().map(|r| cpath(r)).collect(), Some(cpath(&base)), OverlayApi::LowerdirPlus))
}

/// The classic option string: with absolute layer paths if it fits in a page, else relative
/// to their common parent, else refused with how many layers would fit.
fn legacy_form(layers: &[PathBuf], flags: &Flags<'_>, page: usize) -> Result<Forms, ConfigError> {
    let top_first: Vec<&Path> = layers.iter().rev().map(PathBuf::as_path).collect();
    let text = legacy_options(&top_first, flags);
    if text.len() < page {
        return Ok((Vec::new(), None, OverlayApi::Legacy { options: bytes(text) }));
    }
    let base = common_parent(layers);
    let relative: Vec<&Path> = top_first.iter().map(|l| l.strip_prefix(&base).unwrap_or(l)).collect();
    let text = legacy_options(&relative, flags);
    if text.len() < page {
        return Ok((Vec::new(), Some(cpath(&base)), OverlayApi::Legacy { options: bytes(text) }));
    }
    let fit = (0..relative.len()).rev().find(|&k| legacy_options(&relative[..k], flags).len() < page).unwrap_or(0);
    Err(OverlayError::OptionsTooLong { layers: layers.len(), len: text.len(), page, fit }.into())
}

/// "lowerdir=top:…:lowest,upperdir=…,workdir=…[,userxattr][,volatile]".
fn legacy_options(top_first: &[&Path], flags: &Flags<'_>) -> Vec<u8> {
    let mut out = b"lowerdir=".to_vec();
    for (i, layer) in top_first.iter().enumerate() {
        if i > 0 {
            out.push(b':');
        }
        out.extend_from_slice(layer.as_os_str().as_bytes());
    }
    for (key, value) in [("upperdir", flags.upper), ("workdir", flags.work)] {
        out.extend_from_slice(format!(",{key}=").as_bytes());
        out.extend_from_slice(value.as_bytes());
    }
    for (on, flag) in [(flags.userxattr, ",userxattr"), (flags.volatile, ",volatile")] {
        if on {
            out.extend_from_slice(flag.as_bytes());
        }
    }
    out
}

/// The deepest directory that holds every layer's parent (so no layer is the base itself).
fn common_parent(layers: &[PathBuf]) -> PathBuf {
    let parents: Vec<Vec<Component<'_>>> =
        layers.iter().map(|l| l.parent().unwrap_or(Path::new("/")).components().collect()).collect();
    let first = &parents[0];
    let shared = (0..first.len()).take_while(|&i| parents.iter().all(|p| p.get(i) == Some(&first[i]))).count();
    first[..shared].iter().collect()
}

fn bytes(b: Vec<u8>) -> CString {
    CString::new(b).unwrap_or_default()
}

/// Paths were checked for NUL bytes; a NUL here is a bug and gives an empty path the kernel
/// refuses, not a panic.
fn cpath(path: &Path) -> CString {
    bytes(path.as_os_str().as_bytes().to_vec())
}

fn c(s: &str) -> CString {
    bytes(s.as_bytes().to_vec())
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
