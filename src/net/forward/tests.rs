//! The forwarder on loopback: what it carries, and that it ends.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use super::TcpForwarder;

fn any_loopback_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A server that answers each connection with what it read, upper-cased, after the client's
/// half close.
fn upper_case_server() -> SocketAddr {
    let listener = TcpListener::bind(any_loopback_port()).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut got = Vec::new();
                stream.read_to_end(&mut got).unwrap();
                stream.write_all(&got.to_ascii_uppercase()).unwrap();
            });
        }
    });
    addr
}

#[test]
fn carries_both_ways_with_half_closes() {
    let forward = TcpForwarder::start(any_loopback_port(), upper_case_server()).unwrap();
    for _ in 0..3 {
        let mut client = TcpStream::connect(forward.local_addr()).unwrap();
        client.write_all(&b"hello through the forwarder ".repeat(10_000)).unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut back = Vec::new();
        client.read_to_end(&mut back).unwrap();
        assert_eq!(back, b"HELLO THROUGH THE FORWARDER ".repeat(10_000));
    }
}

#[test]
fn a_dropped_forwarder_closes_its_port_and_its_connections() {
    // A target that never answers: the connection stays open until the forwarder ends it.
    let silent = TcpListener::bind(any_loopback_port()).unwrap();
    let forward = TcpForwarder::start(any_loopback_port(), silent.local_addr().unwrap()).unwrap();
    let port = forward.local_addr();
    let mut client = TcpStream::connect(port).unwrap();
    client.write_all(b"x").unwrap();
    let (mut inside, _) = silent.accept().unwrap(); // the forwarder's connection arrived
    inside.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut first = [0u8; 1];
    inside.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"x", "carried before the drop");
    let started = Instant::now();
    drop(forward);
    client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut byte = [0u8; 1];
    assert_eq!(client.read(&mut byte).unwrap(), 0, "the connection ended with the forwarder");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(TcpStream::connect(port).is_err(), "nothing listens on {port} any more");
    let mut rest = Vec::new();
    inside.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"", "the sandbox's end closed too");
}

#[test]
fn a_taken_port_is_an_error_and_an_unreachable_target_closes_the_connection() {
    let taken = TcpListener::bind(any_loopback_port()).unwrap();
    let err = TcpForwarder::start(taken.local_addr().unwrap(), upper_case_server()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    let closed = TcpListener::bind(any_loopback_port()).unwrap().local_addr().unwrap(); // dropped: refused
    let forward = TcpForwarder::start(any_loopback_port(), closed).unwrap();
    let mut client = TcpStream::connect(forward.local_addr()).unwrap();
    client.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut byte = [0u8; 1];
    assert!(matches!(client.read(&mut byte), Ok(0) | Err(_)), "closed when the target refuses");
}
