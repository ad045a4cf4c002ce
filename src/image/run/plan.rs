//! An image's run defaults compiled at `build()` (**parent**: pure data, used per spawn by
//! `spawn::prepare`): its environment, working directory and ids (the `User` resolved against
//! the image's own id files), and its Entrypoint and Cmd for [`super::command`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::error::ImageRunError;
use super::spec::ImageSpec;
use super::user::{self, IdFiles, ImageIds};

/// The defaults of every command a sandbox of this image runs. A command's own setting wins
/// over each of them (see `spawn::prepare`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageDefaults {
    /// The image's name, for messages.
    pub name: String,
    /// `Env`, in order: the base environment a command adds to or overrides.
    pub env: Vec<(OsString, OsString)>,
    /// `WorkingDir`, absolute (a relative one is taken from `/`).
    pub cwd: Option<PathBuf>,
    /// `User`, resolved; `None` leaves the sandbox's default ids.
    pub ids: Option<ImageIds>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
}

/// The defaults of `spec`'s image (`None` without one).
/// Refuses, for a sandbox without a user namespace, an image `User` whose ids are host root's
/// or -1 (which `setresuid` takes for "unchanged": a root caller's root). Other host ids are
/// what such an image asks for, as with `Command::uid`.
fn not_host_root(defaults: &ImageDefaults, user: Option<&str>, user_namespace: bool) -> Result<(), ImageRunError> {
    let Some(ids) = defaults.ids.as_ref().filter(|_| !user_namespace) else { return Ok(()) };
    let uids = std::iter::once(("uid", ids.uid));
    let gids = std::iter::once(ids.gid).chain(ids.groups.iter().copied()).map(|g| ("gid", g));
    match uids.chain(gids).find(|(_, id)| *id == 0 || *id == u32::MAX) {
        Some((kind, id)) => Err(ImageRunError::HostRoot {
            image: defaults.name.clone(),
            user: user.unwrap_or_default().to_string(),
            kind,
            id,
        }),
        None => Ok(()),
    }
}

/// [`compile`], then [`not_host_root`].
pub(crate) fn compile_for(
    spec: Option<&ImageSpec>,
    user_namespace: bool,
) -> Result<Option<ImageDefaults>, ImageRunError> {
    let defaults = compile(spec)?;
    if let (Some(d), Some(spec)) = (&defaults, spec) {
        not_host_root(d, spec.config.user.as_deref(), user_namespace)?;
    }
    Ok(defaults)
}

pub(crate) fn compile(spec: Option<&ImageSpec>) -> Result<Option<ImageDefaults>, ImageRunError> {
    let Some(spec) = spec else { return Ok(None) };
    let config = &spec.config;
    let mut env = Vec::with_capacity(config.env.len());
    for entry in &config.env {
        let Some((key, value)) = entry.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return Err(ImageRunError::BadEnv { image: spec.name.clone(), entry: entry.clone() });
        };
        env.push((OsString::from(key), OsString::from(value)));
    }
    let cwd = config.working_dir.as_deref().map(|d| Path::new("/").join(d));
    let ids = match config.user.as_deref().filter(|u| !u.is_empty()) {
        Some(u) => Some(user::resolve(u, &spec.name, &IdFiles::read(&spec.layers, &spec.name)?)?),
        None => None,
    };
    let (entrypoint, cmd) = (config.entrypoint.clone(), config.cmd.clone());
    Ok(Some(ImageDefaults { name: spec.name.clone(), env, cwd, ids, entrypoint, cmd }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::store::image::ImageConfig;

    fn spec(config: ImageConfig) -> ImageSpec {
        ImageSpec { name: "img".into(), config, layers: Vec::new() }
    }

    #[test]
    fn env_working_dir_and_numeric_user_compile() {
        let config = ImageConfig {
            env: vec!["PATH=/bin".into(), "A=x=y".into(), "EMPTY=".into()],
            working_dir: Some("srv".into()),
            user: Some("7:8".into()),
            ..ImageConfig::default()
        };
        let d = compile(Some(&spec(config))).unwrap().unwrap();
        let env: Vec<_> = d.env.iter().map(|(k, v)| (k.to_str().unwrap(), v.to_str().unwrap())).collect();
        assert_eq!(env, [("PATH", "/bin"), ("A", "x=y"), ("EMPTY", "")]);
        assert_eq!(d.cwd.as_deref(), Some(Path::new("/srv")));
        assert_eq!(d.ids, Some(ImageIds { uid: 7, gid: 8, groups: vec![] }));
        assert_eq!(compile(None).unwrap(), None);
    }

    #[test]
    fn an_env_entry_without_a_name_is_refused() {
        for bad in ["NOEQUALS", "=v"] {
            let config = ImageConfig { env: vec![bad.into()], ..ImageConfig::default() };
            assert!(matches!(compile(Some(&spec(config))), Err(ImageRunError::BadEnv { .. })), "{bad}");
        }
    }
}
