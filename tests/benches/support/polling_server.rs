//! An HTTP/1.1 server that never sleeps: one thread polls every connection without
//! blocking and answers each complete request with one canned response.
//!
//! Why: on loopback, a client's `write` delivers the request into the server's socket
//! on the client's CPU, and when the server is asleep that includes waking it (an
//! inter-processor interrupt, dear on a virtual machine), charged to the client's system
//! time. The faster the client, the less often the server sleeps, so a few hundred
//! nanoseconds of client work are amplified into microseconds of client system time. A
//! real provider is on another machine, where waking its server costs the client
//! nothing; a server that never sleeps shows the client's CPU the same way. It spins on
//! one core: run it only where the client has the other.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

/// Starts the server on a thread of its own; answers every request with `response`
/// (a whole HTTP/1.1 response, head and body).
pub fn start(response: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut connections: Vec<(TcpStream, Vec<u8>)> = Vec::new();
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            while let Ok((stream, _)) = listener.accept() {
                stream.set_nonblocking(true).unwrap();
                stream.set_nodelay(true).unwrap();
                connections.push((stream, Vec::new()));
            }
            connections.retain_mut(|(stream, pending)| {
                loop {
                    match stream.read(&mut chunk) {
                        Ok(0) => return false,
                        Ok(n) => pending.extend_from_slice(&chunk[..n]),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(_) => return false,
                    }
                }
                while let Some(length) = complete_request(pending) {
                    pending.drain(..length);
                    if write_all(stream, &response).is_err() {
                        return false;
                    }
                }
                true
            });
        }
    });
    addr
}

/// The length of the first complete request in `buf` (head and `content-length` body).
fn complete_request(buf: &[u8]) -> Option<usize> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let body = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    (buf.len() >= head_end + body).then_some(head_end + body)
}

/// `write_all` on a non-blocking socket: spins while the socket buffer is full.
fn write_all(stream: &mut TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        match stream.write(bytes) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::hint::spin_loop(),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
