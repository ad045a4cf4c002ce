//! The command an image says to run (**parent**): Entrypoint + Cmd, or Entrypoint + the
//! caller's arguments in place of Cmd (`docker run IMAGE ARGS…`).

use std::ffi::OsString;

use super::error::ImageRunError;
use super::plan::ImageDefaults;
use crate::command::Command;

/// Entrypoint followed by `args`, or by the image's Cmd when `args` is `None`. Without an
/// Entrypoint the first of them is the program.
pub(crate) fn image_command(
    image: Option<&ImageDefaults>,
    args: Option<Vec<OsString>>,
) -> Result<Command, ImageRunError> {
    let image = image.ok_or(ImageRunError::NotAnImage)?;
    let tail = args.unwrap_or_else(|| image.cmd.iter().map(OsString::from).collect());
    let mut words = image.entrypoint.iter().map(OsString::from).chain(tail);
    let program = words.next().ok_or_else(|| ImageRunError::NoCommand { image: image.name.clone() })?;
    let mut cmd = Command::new(program);
    cmd.args(words);
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(entrypoint: &[&str], cmd: &[&str]) -> ImageDefaults {
        let strings = |s: &[&str]| s.iter().map(|s| s.to_string()).collect();
        ImageDefaults {
            name: "img".into(),
            env: vec![],
            cwd: None,
            ids: None,
            entrypoint: strings(entrypoint),
            cmd: strings(cmd),
        }
    }

    fn words(c: &Command) -> Vec<String> {
        std::iter::once(c.get_program()).chain(c.get_args()).map(|s| s.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn entrypoint_then_cmd_or_the_callers_args() {
        let both = image(&["/bin/sh", "-c"], &["echo hi"]);
        assert_eq!(words(&image_command(Some(&both), None).unwrap()), ["/bin/sh", "-c", "echo hi"]);
        let args = Some(vec![OsString::from("echo other")]);
        assert_eq!(words(&image_command(Some(&both), args).unwrap()), ["/bin/sh", "-c", "echo other"]);
        let cmd_only = image(&[], &["/bin/true", "x"]);
        assert_eq!(words(&image_command(Some(&cmd_only), None).unwrap()), ["/bin/true", "x"]);
        let args = Some(vec![OsString::from("/bin/false")]);
        assert_eq!(words(&image_command(Some(&cmd_only), args).unwrap()), ["/bin/false"]);
    }

    #[test]
    fn no_command_and_no_image_are_typed_errors() {
        assert!(matches!(image_command(Some(&image(&[], &[])), None), Err(ImageRunError::NoCommand { .. })));
        assert!(matches!(image_command(None, None), Err(ImageRunError::NotAnImage)));
    }
}
