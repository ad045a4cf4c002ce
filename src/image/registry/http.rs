//! The registry's HTTP API as isobox speaks it (**parent**), over ureq: one agent (its
//! connections kept alive) per pull or push, the repository's base URL, and the credentials.
//! A 401 answer is met once per request: a `Bearer` challenge by a token from its realm, a
//! `Basic` one by the credentials; the `Authorization` that worked is sent with every later
//! request to the registry (never to another host an upload or a redirect points at).

use std::cell::RefCell;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use ureq::http::{Method, Response};

use crate::image::registry::auth::{self, Challenge};
use crate::image::registry::error::{RegistryError, RegistryStep};
use crate::image::registry::options::RegistryOptions;
use crate::image::registry::reference::Reference;

/// The most bytes of an error answer or a token answer isobox reads.
const SMALL_ANSWER: u64 = 1 << 20;

/// A request's body.
#[derive(Clone, Copy)]
pub(crate) enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// A file, sent with its length (opened again for a retry).
    File(&'a Path),
}

/// One request: what for, and how.
#[derive(Clone, Copy)]
pub(crate) struct Call<'a> {
    pub(crate) step: RegistryStep,
    pub(crate) method: &'a Method,
    pub(crate) url: &'a str,
    pub(crate) headers: &'a [(&'a str, &'a str)],
    pub(crate) body: Body<'a>,
}

pub(crate) struct Client {
    agent: ureq::Agent,
    /// `http://host:port` or `https://host`.
    base: String,
    repository: String,
    plain: bool,
    credentials: Option<(String, String)>,
    authorization: RefCell<Option<String>>,
}

impl Client {
    pub(crate) fn new(reference: &Reference, options: &RegistryOptions) -> Client {
        let plain = options.plain_http.unwrap_or_else(|| reference.is_loopback());
        let timeout = Some(options.timeout.unwrap_or(Duration::from_secs(60)));
        // ureq's defaults take the environment's proxy; a loopback registry is never reached
        // through one unless asked (it would get the credentials, in plain HTTP).
        let from_env = options.proxy_from_env.unwrap_or_else(|| !reference.is_loopback());
        let proxy = if from_env { ureq::Proxy::try_from_env() } else { None };
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .https_only(!plain)
            .proxy(proxy)
            .timeout_connect(timeout)
            .timeout_per_read(timeout)
            .timeout_per_write(timeout)
            .user_agent(concat!("isobox/", env!("CARGO_PKG_VERSION")))
            .build();
        let scheme = if plain { "http" } else { "https" };
        Client {
            agent: config.into(),
            base: format!("{scheme}://{}", reference.host),
            repository: reference.repository.clone(),
            plain,
            credentials: options.credentials.clone(),
            authorization: RefCell::new(None),
        }
    }

    /// `<base>/v2/<repository>/<path>`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}/v2/{}/{path}", self.base, self.repository)
    }

    /// An upload's `Location`, made absolute.
    pub(crate) fn resolve(&self, location: &str) -> String {
        match location.starts_with("http://") || location.starts_with("https://") {
            true => location.to_owned(),
            false if location.starts_with('/') => format!("{}{location}", self.base),
            false => format!("{}/{location}", self.base),
        }
    }

    /// Sends `call`, meeting one 401 with the challenge's answer; the response, whatever its
    /// status but 401.
    pub(crate) fn send(&self, call: Call<'_>) -> Result<Response<ureq::Body>, RegistryError> {
        let mut retried = false;
        loop {
            let authorization = self.authorization.borrow().clone();
            let ours = call.url.starts_with(&format!("{}/", self.base));
            let response = self.once(call, authorization.as_deref().filter(|_| ours))?;
            if response.status() != 401 {
                return Ok(response);
            }
            let challenge = header_all(&response, "www-authenticate");
            let parsed = auth::parse_challenge(&challenge);
            let had_credentials = authorization.is_some() && ours;
            let unauthorized = || RegistryError::Unauthorized {
                step: call.step,
                url: call.url.to_owned(),
                challenge,
                had_credentials,
            };
            if retried || !ours {
                return Err(unauthorized());
            }
            let answer = match parsed {
                Some(Challenge::Bearer { realm, service, scopes }) => {
                    format!("Bearer {}", self.token(&realm, service.as_deref(), &scopes)?)
                }
                Some(Challenge::Basic) => match &self.credentials {
                    Some((user, password)) => auth::basic(user, password),
                    None => return Err(unauthorized()),
                },
                None => return Err(unauthorized()),
            };
            *self.authorization.borrow_mut() = Some(answer);
            retried = true;
        }
    }

    fn once(&self, call: Call<'_>, authorization: Option<&str>) -> Result<Response<ureq::Body>, RegistryError> {
        let mut request = ureq::http::Request::builder().method(call.method.clone()).uri(call.url);
        for (name, value) in call.headers {
            request = request.header(*name, *value);
        }
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let http = |e: ureq::Error| http_error(call.step, call.url, e);
        let sent = match call.body {
            Body::Empty => self.agent.run(request.body(()).map_err(|e| http(e.into()))?),
            Body::Bytes(bytes) => self.agent.run(request.body(bytes).map_err(|e| http(e.into()))?),
            Body::File(path) => {
                let file = File::open(path).map_err(|e| http(e.into()))?;
                self.agent.run(request.body(file).map_err(|e| http(e.into()))?)
            }
        };
        sent.map_err(http)
    }

    /// A token from the token service at `realm`, asked with the credentials if any.
    fn token(&self, realm: &str, service: Option<&str>, scopes: &[String]) -> Result<String, RegistryError> {
        let url = auth::token_url(realm, service, scopes);
        let step = RegistryStep::Token;
        if url.starts_with("http://") && !self.plain {
            return Err(RegistryError::Protocol {
                step,
                url,
                what: "a token realm in plain HTTP, for an HTTPS registry",
            });
        }
        let basic = self.credentials.as_ref().map(|(u, p)| auth::basic(u, p));
        let headers: Vec<(&str, &str)> = basic.iter().map(|b| ("authorization", b.as_str())).collect();
        let get = Method::GET;
        let call = Call { step, method: &get, url: &url, headers: &headers, body: Body::Empty };
        let mut response = self.once(call, None)?;
        match response.status().as_u16() {
            200 => {}
            401 | 403 => {
                let challenge = header_all(&response, "www-authenticate");
                return Err(RegistryError::Unauthorized { step, url, challenge, had_credentials: basic.is_some() });
            }
            _ => return Err(status_error(step, &url, &mut response)),
        }
        let bytes = read_limited(step, &url, &mut response, SMALL_ANSWER)?;
        let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let token = auth::token_of(&answer).map(str::to_owned);
        token.ok_or(RegistryError::Protocol { step, url, what: "a token answer without `token` or `access_token`" })
    }
}

/// Every value of the header `name`, joined by ", ".
pub(crate) fn header_all(response: &Response<ureq::Body>, name: &str) -> String {
    let values = response.headers().get_all(name).iter().filter_map(|v| v.to_str().ok());
    values.collect::<Vec<_>>().join(", ")
}

/// The first value of the header `name`, if it is text.
pub(crate) fn header<'r>(response: &'r Response<ureq::Body>, name: &str) -> Option<&'r str> {
    response.headers().get(name)?.to_str().ok()
}

pub(crate) fn http_error(step: RegistryStep, url: &str, e: impl Into<ureq::Error>) -> RegistryError {
    RegistryError::Http { step, url: url.to_owned(), source: Box::new(e.into()) }
}

/// The body, at most `limit` bytes (more is `TooLarge`).
pub(crate) fn read_limited(
    step: RegistryStep,
    url: &str,
    response: &mut Response<ureq::Body>,
    limit: u64,
) -> Result<Vec<u8>, RegistryError> {
    let mut bytes = Vec::new();
    let mut reader = response.body_mut().as_reader().take(limit + 1);
    reader.read_to_end(&mut bytes).map_err(|e| http_error(step, url, ureq::Error::Io(e)))?;
    if bytes.len() as u64 > limit {
        return Err(RegistryError::TooLarge { step, url: url.to_owned(), limit });
    }
    Ok(bytes)
}

/// A `Status` error for an answer the step did not expect, with the registry's messages.
pub(crate) fn status_error(step: RegistryStep, url: &str, response: &mut Response<ureq::Body>) -> RegistryError {
    let status = response.status().as_u16();
    let bytes = read_limited(step, url, response, SMALL_ANSWER).unwrap_or_default();
    RegistryError::Status { step, url: url.to_owned(), status, message: error_message(&bytes) }
}

/// Distribution's `{"errors": [{"code", "message"}]}` as `CODE: message; …`, or the text.
fn error_message(bytes: &[u8]) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(bytes).ok();
    let errors = parsed.as_ref().and_then(|v| v.get("errors")?.as_array().cloned());
    match errors {
        Some(errors) => errors
            .iter()
            .map(|e| {
                let field = |k: &str| e.get(k).and_then(serde_json::Value::as_str).unwrap_or("").to_owned();
                format!("{}: {}", field("code"), field("message"))
            })
            .collect::<Vec<_>>()
            .join("; "),
        None => String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::error_message;

    #[test]
    fn reads_distribution_errors() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]}"#;
        assert_eq!(error_message(body), "MANIFEST_UNKNOWN: manifest unknown");
        assert_eq!(error_message(b"  not found\n"), "not found");
    }
}
