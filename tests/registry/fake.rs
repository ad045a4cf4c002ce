//! A tiny HTTP/1.1 server on 127.0.0.1 for what a real registry will not do: serve a wrong
//! blob, lie about a digest, or ask for a token. Each connection gets a thread; each request
//! is answered by the test's handler and recorded.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path with its query.
    pub target: String,
    /// Lowercased names.
    pub headers: HashMap<String, String>,
}

pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn new(status: u16, body: &[u8]) -> Answer {
        Answer { status, headers: Vec::new(), body: body.to_vec() }
    }

    pub fn header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

type Handler = dyn Fn(&Request) -> Answer + Send + Sync;

pub struct Fake {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl Fake {
    /// A server answering with `handler`, until the test process ends.
    pub fn start(handler: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (handler, seen): (Arc<Handler>, _) = (Arc::new(handler), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let (handler, seen) = (handler.clone(), seen.clone());
                std::thread::spawn(move || serve(stream.unwrap(), &*handler, &seen));
            }
        });
        Fake { port, requests }
    }

    pub fn base(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, handler: &Handler, seen: &Mutex<Vec<Request>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    while let Some(request) = read_request(&mut reader) {
        seen.lock().unwrap().push(request.clone());
        let answer = handler(&request);
        let mut head = format!("HTTP/1.1 {} X\r\ncontent-length: {}\r\n", answer.status, answer.body.len());
        for (name, value) in &answer.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let body = if request.method == "HEAD" { &[][..] } else { &answer.body[..] };
        if out.write_all(head.as_bytes()).and_then(|()| out.write_all(body)).is_err() {
            return;
        }
    }
}

fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|&n| n > 0)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    let len = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut body = vec![0; len]; // read past, unused
    reader.read_exact(&mut body).ok()?;
    Some(Request { method, target, headers })
}

/// A handler serving one image's manifest (under `tag` and its digest) and blobs from
/// `blobs` (by digest), under `/v2/<repo>/`.
pub fn image_server(
    repo: &str,
    tag: &str,
    manifest: Vec<u8>,
    blobs: HashMap<String, Vec<u8>>,
) -> impl Fn(&Request) -> Answer + Send + Sync + 'static {
    let (prefix, tag) = (format!("/v2/{repo}/"), tag.to_owned());
    let manifest_digest = super::oci::digest(&manifest);
    move |r: &Request| {
        let Some(rest) = r.target.strip_prefix(&prefix) else { return Answer::new(404, b"") };
        if let Some(name) = rest.strip_prefix("manifests/") {
            if name == tag || name == manifest_digest {
                return Answer::new(200, &manifest)
                    .header("content-type", "application/vnd.oci.image.manifest.v1+json")
                    .header("docker-content-digest", &manifest_digest);
            }
        }
        match rest.strip_prefix("blobs/").and_then(|d| blobs.get(d)) {
            Some(blob) => Answer::new(200, blob),
            None => Answer::new(404, br#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}"#),
        }
    }
}
