//! The command line, as runc takes it (urfave/cli): global flags, the command, its flags and
//! its arguments. A flag is `-name` or `--name`, its value after `=` or as the next argument;
//! a boolean flag takes no value (or `=true`/`=false`).

use std::path::PathBuf;

use crate::error::OciError;

/// The flags before the command.
#[derive(Debug, Clone)]
pub struct Global {
    /// The directory of the containers' state.
    pub root: PathBuf,
    /// Where errors are logged too (containerd's shim reads its last error line).
    pub log: Option<PathBuf>,
    /// `json` (the shim's choice) or `text`.
    pub log_json: bool,
}

/// A command's flags and arguments.
#[derive(Debug, Default)]
pub struct Parsed {
    flags: Vec<(String, Option<String>)>,
    /// The arguments that are not flags, in order.
    pub args: Vec<String>,
}

impl Parsed {
    /// The value of flag `name` (its last one).
    pub fn value(&self, name: &str) -> Option<&str> {
        self.flags.iter().rev().find(|(n, _)| n == name).and_then(|(_, v)| v.as_deref())
    }

    /// Whether boolean flag `name` is set (and not `=false`).
    pub fn is_set(&self, name: &str) -> bool {
        self.flags.iter().rev().find(|(n, _)| n == name).is_some_and(|(_, v)| v.as_deref() != Some("false"))
    }

    /// The only argument, the container's id.
    pub fn id(&self, command: &str) -> Result<&str, OciError> {
        match self.args.as_slice() {
            [id] => Ok(id),
            [] => Err(OciError::Usage(format!("{command}: the container id is missing"))),
            _ => Err(OciError::Usage(format!("{command}: one container id expected, got {:?}", self.args))),
        }
    }
}

/// A flag a command knows: its names and whether it takes a value.
pub struct FlagSpec {
    pub names: &'static [&'static str],
    pub takes_value: bool,
}

/// Shorthand for a table of flags.
pub const fn flag(names: &'static [&'static str], takes_value: bool) -> FlagSpec {
    FlagSpec { names, takes_value }
}

/// The global flags runc has; those without an effect here are accepted and ignored only
/// where ignoring them changes nothing (`--debug`, `--criu`, `--rootless`).
const GLOBAL_FLAGS: &[FlagSpec] = &[
    flag(&["root"], true),
    flag(&["log"], true),
    flag(&["log-format"], true),
    flag(&["debug"], false),
    flag(&["systemd-cgroup"], false),
    flag(&["criu"], true),
    flag(&["rootless"], true),
];

/// Splits `argv` (without the program's name) into the global flags, the command and the rest.
pub fn split_global(argv: &[String]) -> Result<(Global, Option<String>, Vec<String>), OciError> {
    let (parsed, rest) = parse_until_command(argv, GLOBAL_FLAGS)?;
    if parsed.is_set("systemd-cgroup") {
        return Err(OciError::Usage(
            "--systemd-cgroup: isobox-oci manages cgroupfs paths only (there is no systemd here to ask): \
             configure the runtime without SystemdCgroup"
                .into(),
        ));
    }
    let log_json = match parsed.value("log-format") {
        None | Some("text") => false,
        Some("json") => true,
        Some(other) => return Err(OciError::Usage(format!("--log-format {other:?}: text or json"))),
    };
    let root = parsed.value("root").map(PathBuf::from).unwrap_or_else(default_root);
    let global = Global { root, log: parsed.value("log").map(PathBuf::from), log_json };
    let mut rest = rest.into_iter();
    let command = rest.next();
    Ok((global, command, rest.collect()))
}

/// runc's default: /run/isobox-oci for root, `$XDG_RUNTIME_DIR/isobox-oci` otherwise.
fn default_root() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) if !nix::unistd::geteuid().is_root() => PathBuf::from(dir).join("isobox-oci"),
        _ => PathBuf::from("/run/isobox-oci"),
    }
}

/// Parses a command's arguments against its `flags`; flags and arguments may mix, and `--`
/// ends the flags.
pub fn parse(args: &[String], flags: &[FlagSpec]) -> Result<Parsed, OciError> {
    let mut parsed = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            parsed.args.extend(args[i..].iter().cloned());
            break;
        }
        match flag_name(arg) {
            Some((name, inline)) => {
                let value = take_value(name, inline, flags, args, &mut i)?;
                parsed.flags.push((canonical(name, flags).to_string(), value));
            }
            None => parsed.args.push(arg.clone()),
        }
    }
    Ok(parsed)
}

/// Global flags, up to the first argument that is not one (the command).
fn parse_until_command(args: &[String], flags: &[FlagSpec]) -> Result<(Parsed, Vec<String>), OciError> {
    let mut parsed = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let Some((name, inline)) = flag_name(&args[i]) else { break };
        if matches!(name, "help" | "h" | "version" | "v") {
            break; // handled as commands
        }
        i += 1;
        let value = take_value(name, inline, flags, args, &mut i)?;
        parsed.flags.push((canonical(name, flags).to_string(), value));
    }
    Ok((parsed, args[i..].to_vec()))
}

/// `--name=value` → ("name", Some("value")); `-name` → ("name", None); not a flag → None.
fn flag_name(arg: &str) -> Option<(&str, Option<&str>)> {
    let body = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'))?;
    if body.is_empty() {
        return None; // "-": an argument
    }
    Some(match body.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (body, None),
    })
}

fn find<'a>(name: &str, flags: &'a [FlagSpec]) -> Option<&'a FlagSpec> {
    flags.iter().find(|f| f.names.contains(&name))
}

fn canonical<'a>(name: &'a str, flags: &[FlagSpec]) -> &'a str {
    find(name, flags).map_or(name, |f| f.names[0])
}

fn take_value(
    name: &str,
    inline: Option<&str>,
    flags: &[FlagSpec],
    args: &[String],
    i: &mut usize,
) -> Result<Option<String>, OciError> {
    let Some(spec) = find(name, flags) else {
        return Err(OciError::Usage(format!("flag provided but not defined: -{name}")));
    };
    if !spec.takes_value {
        return Ok(inline.map(str::to_string));
    }
    if let Some(v) = inline {
        return Ok(Some(v.to_string()));
    }
    let v = args.get(*i).ok_or_else(|| OciError::Usage(format!("flag needs an argument: -{name}")))?;
    *i += 1;
    Ok(Some(v.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn global_flags_come_before_the_command_in_either_spelling() {
        let argv =
            strings(&["--root", "/tmp/s", "-log=/tmp/l.json", "--log-format", "json", "create", "--bundle", "b", "x"]);
        let (g, cmd, rest) = split_global(&argv).unwrap();
        assert_eq!(g.root, PathBuf::from("/tmp/s"));
        assert_eq!(g.log, Some(PathBuf::from("/tmp/l.json")));
        assert!(g.log_json);
        assert_eq!(cmd.as_deref(), Some("create"));
        assert_eq!(rest, strings(&["--bundle", "b", "x"]));
    }

    #[test]
    fn command_flags_mix_with_arguments_and_short_names() {
        const F: &[FlagSpec] = &[flag(&["bundle", "b"], true), flag(&["force", "f"], false)];
        let p = parse(&strings(&["-b", "/bundle", "id1", "--force"]), F).unwrap();
        assert_eq!(p.value("bundle"), Some("/bundle"));
        assert!(p.is_set("force"));
        assert_eq!(p.id("x").unwrap(), "id1");
        let p = parse(&strings(&["--force=false", "id1"]), F).unwrap();
        assert!(!p.is_set("force"));
    }

    #[test]
    fn unknown_flags_and_missing_values_are_refused() {
        const F: &[FlagSpec] = &[flag(&["bundle"], true)];
        assert!(matches!(parse(&strings(&["--nope", "x"]), F), Err(OciError::Usage(m)) if m.contains("-nope")));
        assert!(
            matches!(parse(&strings(&["--bundle"]), F), Err(OciError::Usage(m)) if m.contains("needs an argument"))
        );
        assert!(split_global(&strings(&["--systemd-cgroup", "create"])).is_err());
    }
}
