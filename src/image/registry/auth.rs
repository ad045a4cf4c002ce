//! Registry authentication (**parent**): the `WWW-Authenticate` challenge of a 401 answer
//! (`Bearer realm="…",service="…",scope="…"` as Docker Hub sends it, or `Basic realm="…"`),
//! the token request's URL, and the `Basic` credentials header.

/// What a 401 answer asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// Ask the token service at `realm` for a token for `service` and `scopes`.
    Bearer { realm: String, service: Option<String>, scopes: Vec<String> },
    /// Send the credentials themselves.
    Basic,
}

/// The first challenge of `header` isobox answers (Bearer or Basic), if any.
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(char::is_whitespace).unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let (mut realm, mut service, mut scopes) = (None, None, Vec::new());
    for (key, value) in params(rest) {
        match key.to_ascii_lowercase().as_str() {
            "realm" => realm = Some(value),
            "service" => service = Some(value),
            "scope" => scopes.extend(value.split(' ').filter(|s| !s.is_empty()).map(str::to_owned)),
            _ => {}
        }
    }
    Some(Challenge::Bearer { realm: realm?, service, scopes })
}

/// The `key=value` and `key="quoted \" value"` parameters of a challenge.
fn params(mut rest: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        let Some((key, after)) = rest.split_once('=') else { return out };
        let key = key.trim().to_owned();
        let after = after.trim_start();
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => {
                let mut value = String::new();
                let mut chars = quoted.char_indices();
                let mut end = quoted.len();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => value.extend(chars.next().map(|(_, c)| c)),
                        '"' => {
                            end = i + 1;
                            break;
                        }
                        c => value.push(c),
                    }
                }
                (value, &quoted[end..])
            }
            None => {
                let end = after.find(',').unwrap_or(after.len());
                (after[..end].trim().to_owned(), &after[end..])
            }
        };
        out.push((key, value));
        rest = next;
    }
}

/// The token request's URL: `realm?service=…&scope=…` (a scope per parameter).
pub(crate) fn token_url(realm: &str, service: Option<&str>, scopes: &[String]) -> String {
    let mut url = realm.to_owned();
    let mut sep = if realm.contains('?') { '&' } else { '?' };
    let pairs = service.map(|s| ("service", s)).into_iter().chain(scopes.iter().map(|s| ("scope", s.as_str())));
    for (key, value) in pairs {
        url.push(sep);
        url.push_str(key);
        url.push('=');
        url.push_str(&query_escape(value));
        sep = '&';
    }
    url
}

/// `text` with every byte but the unreserved ones (and `:` and `/`, common in scopes) as `%XX`.
fn query_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `Authorization` value for `user` and `password`.
pub(crate) fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            match i <= chunk.len() {
                true => out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char),
                false => out.push('='),
            }
        }
    }
    out
}

/// The token of a token service's JSON answer (`token`, or OAuth's `access_token`).
pub(crate) fn token_of(answer: &serde_json::Value) -> Option<&str> {
    ["token", "access_token"].iter().find_map(|k| answer.get(k)?.as_str()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_docker_hub_challenges() {
        let hub = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#;
        let Some(Challenge::Bearer { realm, service, scopes }) = parse_challenge(hub) else { panic!() };
        assert_eq!(realm, "https://auth.docker.io/token");
        assert_eq!(service.as_deref(), Some("registry.docker.io"));
        assert_eq!(scopes, ["repository:library/busybox:pull"]);
        let url = token_url(&realm, service.as_deref(), &scopes);
        assert_eq!(
            url,
            "https://auth.docker.io/token?service=registry.docker.io&scope=repository:library/busybox:pull"
        );
        let odd = parse_challenge(r#"bearer scope="a b", realm="http://x/t?x=1\"""#).unwrap();
        let scopes = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(odd, Challenge::Bearer { realm: "http://x/t?x=1\"".into(), service: None, scopes });
        assert_eq!(token_url("http://x/t?x=1", Some("s p"), &[]), "http://x/t?x=1&service=s%20p");
        assert_eq!(parse_challenge(r#"Basic realm="registry""#), Some(Challenge::Basic));
        assert_eq!(parse_challenge("Negotiate"), None);
        assert_eq!(parse_challenge(r#"Bearer service="no realm""#), None);
    }

    #[test]
    fn encodes_basic_credentials() {
        assert_eq!(basic("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
        let answer = serde_json::json!({ "access_token": "t1", "expires_in": 300 });
        assert_eq!(token_of(&answer), Some("t1"));
        assert_eq!(token_of(&serde_json::json!({ "token": "" })), None);
    }
}
