//! slirp4netns's API socket (**parent**): one JSON request per connection, `add_hostfwd` for
//! each port forward, answered `{"return": ...}` or `{"error": {"desc": "..."}}`.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use super::error::{UserNetError, UserNetStep};
use super::probe::errno_of;
use super::spec::{PortForward, UserNet, UserNetHelper};

const HELPER: UserNetHelper = UserNetHelper::Slirp4netns;

/// Asks slirp4netns at `socket` to forward `forward`, waiting at most `timeout` for each of
/// the connection, the request and the answer.
pub(crate) fn add_hostfwd(socket: &Path, forward: &PortForward, timeout: Duration) -> Result<(), UserNetError> {
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            UserNetError::Timeout { helper: HELPER, step: UserNetStep::PortForward, waited: timeout }
        }
        _ => UserNetError::Io { helper: HELPER, step: UserNetStep::PortForward, errno: errno_of(&e) },
    };
    let mut stream = UnixStream::connect(socket).map_err(io)?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    stream.write_all(request(forward).as_bytes()).map_err(io)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(io)?;
    let answer = String::from_utf8_lossy(&answer);
    match refusal(&answer) {
        None => Ok(()),
        Some(message) => Err(UserNetError::PortRefused { helper: HELPER, forward: *forward, message }),
    }
}

/// The request: numbers and addresses only, so nothing needs escaping.
fn request(f: &PortForward) -> String {
    format!(
        r#"{{"execute":"add_hostfwd","arguments":{{"proto":"{}","host_addr":"{}","host_port":{},"guest_addr":"{}","guest_port":{}}}}}"#,
        f.protocol,
        f.host_address,
        f.host_port,
        UserNet::SANDBOX_ADDRESS,
        f.sandbox_port
    )
}

/// `None` for an answer with `"return"`, else the error's `desc` (or the whole answer).
fn refusal(answer: &str) -> Option<String> {
    let answer = answer.trim();
    if answer.starts_with(r#"{"return""#) {
        return None;
    }
    let desc = answer.split_once(r#""desc":""#).and_then(|(_, rest)| rest.split_once('"')).map(|(d, _)| d);
    Some(desc.unwrap_or(if answer.is_empty() { "no answer" } else { answer }).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_answers() {
        let f = PortForward::udp(5353, 53);
        assert_eq!(
            request(&f),
            r#"{"execute":"add_hostfwd","arguments":{"proto":"udp","host_addr":"127.0.0.1","host_port":5353,"guest_addr":"10.0.2.100","guest_port":53}}"#
        );
        assert_eq!(refusal(r#"{"return":{"id":1}}"#), None);
        let bad = r#"{"error":{"desc":"bad request: add_hostfwd: slirp_add_hostfwd failed"}}"#;
        assert_eq!(refusal(bad).as_deref(), Some("bad request: add_hostfwd: slirp_add_hostfwd failed"));
        assert_eq!(refusal("").as_deref(), Some("no answer"));
    }
}
