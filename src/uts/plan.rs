//! Hostname and NIS domain name at `build()` (**parent**): each needs a UTS namespace, no NUL
//! byte and at most 64 bytes.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use crate::error::ConfigError;
use crate::namespaces::Namespaces;
use crate::validate;

/// The names the child sets, as bytes.
#[derive(Debug, Clone, Default)]
pub(crate) struct UtsPlan {
    pub hostname: Option<Vec<u8>>,
    pub domainname: Option<Vec<u8>>,
}

/// Checks and compiles the names asked for.
pub(crate) fn compile(
    hostname: Option<&OsString>,
    domainname: Option<&OsString>,
    ns: Namespaces,
) -> Result<UtsPlan, ConfigError> {
    Ok(UtsPlan { hostname: name("hostname", hostname, ns)?, domainname: name("domain name", domainname, ns)? })
}

fn name(what: &'static str, name: Option<&OsString>, ns: Namespaces) -> Result<Option<Vec<u8>>, ConfigError> {
    let Some(name) = name else { return Ok(None) };
    validate::need(ns, Namespaces::UTS, what)?;
    validate::no_nul(what, name)?;
    if name.is_empty() {
        return Err(ConfigError::EmptyName { what });
    }
    if name.len() > 64 {
        return Err(ConfigError::NameTooLong { what, len: name.len() });
    }
    Ok(Some(name.as_bytes().to_vec()))
}
