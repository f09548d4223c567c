//! What one client may cost the server: header sizes, how long a connection may stay silent,
//! how many connections are open at once. Every value is a named constant with the reason for
//! it; [`configure`] applies them to the HTTP builder and [`connection_cap`] sizes the
//! connection bound to the process's file descriptor limit.
//!
//! The threats they answer: a client sending huge or countless headers (memory), a client that
//! opens connections and sends nothing or one byte a second (slowloris: connections and file
//! descriptors held forever), and enough connections to run the process out of descriptors (at
//! which point the store, the engine socket and the DNS server could no longer open theirs).

use std::time::Duration;

use hyper_util::rt::TokioTimer;
use hyper_util::server::conn::auto;

/// The largest HTTP/1 request head (request line and headers) and HTTP/2 header list, in bytes.
/// Real clients send a few KiB at most (a bearer token is about 1 KiB, impersonation and
/// `Accept` headers a few hundred bytes); 64 KiB leaves ample room while bounding what one
/// connection can make k2d buffer. A bigger head gets 431 Request Header Fields Too Large
/// (HTTP/1) or a stream reset (HTTP/2). Go's server, kube-apiserver's, allows 1 MiB; k2d runs
/// on devices with 512 MB of RAM and has no use for more.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// The most header fields in one HTTP/1 request: hyper's default, stated so it is a decision.
/// A request with more gets 431. No Kubernetes client sends more than about 15.
pub const MAX_HEADERS: usize = 100;

/// How long an HTTP/1 client has to send a whole request head, counted from when k2d starts
/// waiting for it (so it is also how long an idle keep-alive connection stays open). The value
/// is kube-apiserver's `ReadHeaderTimeout` (32 s, just above its 30 s default request timeout
/// clients are tuned for). A slowloris client sending a byte a second is closed after it.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(32);

/// How long a client has after the TLS handshake to send the first [`PREFACE_LEN`] bytes (which
/// tell HTTP/1 from HTTP/2). hyper's header timeout only starts once the protocol is known, so
/// without this a client that connects and sends nothing would hold its connection forever.
pub const FIRST_BYTES_TIMEOUT: Duration = HEADER_READ_TIMEOUT;

/// The length of the HTTP/2 client preface (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`): the most bytes
/// the protocol detection waits for.
pub const PREFACE_LEN: usize = 24;

/// The most HTTP/2 streams one connection may have open at once. A watch is a stream, and
/// kubectl, Helm and controllers multiplex everything on one connection per client; 250 is what
/// Go's HTTP/2 server (kube-apiserver's) allows by default.
pub const MAX_CONCURRENT_STREAMS: u32 = 250;

/// How often k2d pings an HTTP/2 client that has sent nothing, and how long it waits for the
/// answer before closing: a peer that vanished (power loss, cable pulled) is noticed within a
/// minute instead of holding its watches forever.
pub const H2_KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(30);
/// See [`H2_KEEP_ALIVE_INTERVAL`].
pub const H2_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// The most client connections open at once. k2d serves one host: a handful of people and
/// tools, each with one HTTP/2 connection (plus one per exec, attach, port-forward or HTTP/1
/// watch). 1024 is far above that, and bounds what a flood of connections can take. When the
/// bound is reached k2d stops accepting: new connections wait in the kernel's listen queue and
/// are served as soon as others close (slow clients are closed by the timeouts above).
pub const MAX_CONNECTIONS: usize = 1024;

/// File descriptors kept for everything but client connections: the store, the engine socket
/// and its streams (logs, exec, events), the DNS server, the Service proxy's upstream
/// connections. The connection bound never lets clients take these.
pub const RESERVED_FDS: u64 = 512;

/// The fewest connections k2d accepts at once, however low the descriptor limit.
const MIN_CONNECTIONS: usize = 16;

/// Raises the soft limit on open files to the hard limit (as Go programs do at start: the soft
/// limit of 1024 is a relic of `select()`, which k2d does not use) and returns the connection
/// bound that leaves [`RESERVED_FDS`] descriptors for the rest of k2d.
pub fn connection_cap() -> usize {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return MAX_CONNECTIONS;
    };
    let limit = if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
        hard
    } else {
        soft
    };
    cap_for(limit)
}

/// The connection bound for a descriptor limit.
fn cap_for(nofile: u64) -> usize {
    let room = usize::try_from(nofile.saturating_sub(RESERVED_FDS)).unwrap_or(usize::MAX);
    room.clamp(MIN_CONNECTIONS, MAX_CONNECTIONS)
}

/// The HTTP builder with the limits above.
pub fn configure<E>(mut builder: auto::Builder<E>) -> auto::Builder<E> {
    builder
        .http1()
        .timer(TokioTimer::new())
        .max_headers(MAX_HEADERS)
        // hyper answers 431 when the head does not fit its read buffer; the buffer only
        // bounds how much is read at a time, bodies stream through it.
        .max_buf_size(MAX_HEADER_BYTES)
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(MAX_HEADER_BYTES as u32)
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        .keep_alive_interval(H2_KEEP_ALIVE_INTERVAL)
        .keep_alive_timeout(H2_KEEP_ALIVE_TIMEOUT);
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_leaves_the_reserve_and_stays_within_limits() {
        assert_eq!(cap_for(1024), 512);
        assert_eq!(cap_for(1_048_576), MAX_CONNECTIONS);
        assert_eq!(cap_for(100), MIN_CONNECTIONS);
        assert_eq!(cap_for(0), MIN_CONNECTIONS);
    }
}
