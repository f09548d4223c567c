//! The streaming subresources of pods: `exec`, `attach` and `portforward`. The client upgrades
//! the request to a WebSocket (exec and attach: the channel protocol v5 or v4; port-forward:
//! SPDY tunnelled in binary messages) or to raw SPDY/3.1; k2d answers `101 Switching Protocols`
//! and then streams between the client and the container engine. Errors found before the
//! upgrade are plain Status responses; errors after it go on the error channel.

pub mod channels;
pub mod exec;
pub mod netns;
pub mod portforward;
pub mod spdy;
pub mod spdy_channels;
pub mod websocket;

use http::{HeaderMap, HeaderValue, StatusCode};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::sync::mpsc;

use crate::api::{ApiRequest, Reply, Status};
use channels::{Input, Output};

/// How the client asked to upgrade, checked.
#[derive(Debug, PartialEq)]
pub enum Transport {
    /// A WebSocket with this handshake answer.
    WebSocket(websocket::Handshake),
    /// Raw SPDY/3.1 carrying this stream protocol (`X-Stream-Protocol-Version`).
    Spdy(String),
}

/// Picks the transport of an upgrade request: a WebSocket with one of `ws` as subprotocol, or
/// SPDY/3.1 with one of `spdy` as stream protocol.
pub fn negotiate(headers: &HeaderMap, ws: &[&str], spdy: &[&str]) -> Result<Transport, Status> {
    if websocket::requested(headers) {
        return websocket::handshake(headers, ws).map(Transport::WebSocket);
    }
    let upgrade = headers
        .get(http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !upgrade.eq_ignore_ascii_case("SPDY/3.1") {
        return Err(Status::bad_request("Upgrade request required"));
    }
    let offered: Vec<&str> = headers
        .get_all("x-stream-protocol-version")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    offered
        .iter()
        .find(|p| spdy.contains(p))
        .map(|p| Transport::Spdy(p.to_string()))
        .ok_or_else(|| {
            Status::new(403, "Forbidden", format!(
                "unable to upgrade: unable to negotiate protocol: client supports [{}], server supports [{}]",
                offered.join(", "),
                spdy.join(", ")
            ))
        })
}

/// The `101 Switching Protocols` answer to a negotiated upgrade.
pub fn switching(t: &Transport) -> Reply {
    let mut reply = Reply::bytes(StatusCode::SWITCHING_PROTOCOLS, "", bytes::Bytes::new());
    let h = &mut reply.headers;
    h.insert(
        http::header::CONNECTION,
        HeaderValue::from_static("Upgrade"),
    );
    match t {
        Transport::WebSocket(hs) => {
            h.insert(http::header::UPGRADE, HeaderValue::from_static("websocket"));
            if let Ok(v) = HeaderValue::from_str(&hs.accept) {
                h.insert("sec-websocket-accept", v);
            }
            if let Ok(v) = HeaderValue::from_str(&hs.protocol) {
                h.insert("sec-websocket-protocol", v);
            }
        }
        Transport::Spdy(p) => {
            h.insert(http::header::UPGRADE, HeaderValue::from_static("SPDY/3.1"));
            if let Ok(v) = HeaderValue::from_str(p) {
                h.insert("x-stream-protocol-version", v);
            }
        }
    }
    reply
}

/// The pending upgrade of a connect request.
pub fn take_upgrade(req: &mut ApiRequest) -> Result<OnUpgrade, Status> {
    req.upgrade
        .take()
        .ok_or_else(|| Status::bad_request("Upgrade request required"))
}

/// What exec and attach carry: which standard streams, and a terminal.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StreamOptions {
    /// Stdin is passed.
    pub stdin: bool,
    /// Stdout is passed.
    pub stdout: bool,
    /// Stderr is passed (never with a terminal).
    pub stderr: bool,
    /// A terminal.
    pub tty: bool,
}

impl StreamOptions {
    /// Reads and checks the options of an exec or attach request.
    pub fn from_request(req: &ApiRequest) -> Result<Self, Status> {
        let tty = req.query.flag("tty");
        let o = StreamOptions {
            stdin: req.query.flag("stdin"),
            stdout: req.query.flag("stdout"),
            stderr: req.query.flag("stderr") && !tty,
            tty,
        };
        if !o.stdin && !o.stdout && !o.stderr {
            return Err(Status::bad_request(
                "you must specify at least 1 of stdin, stdout, stderr",
            ));
        }
        Ok(o)
    }
}

/// Waits for the upgrade and sets up the channel protocol on the connection: client input
/// arrives on the first channel (it ends when the client is gone), output goes to the second.
pub async fn remote_command(
    transport: Transport,
    upgrade: OnUpgrade,
    opts: StreamOptions,
) -> Option<(mpsc::Receiver<Input>, mpsc::Sender<Output>)> {
    let io = match upgrade.await {
        Ok(io) => TokioIo::new(io),
        Err(e) => {
            tracing::debug!("connection upgrade failed: {e}");
            return None;
        }
    };
    match transport {
        Transport::WebSocket(hs) => {
            let ws = websocket::accept(io).await;
            Some(websocket::remote_command(
                ws,
                hs.protocol == channels::V5,
                opts.tty,
            ))
        }
        Transport::Spdy(_) => Some(spdy_channels::remote_command(spdy::serve(io), opts)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spdy_negotiation() {
        let mut h = HeaderMap::new();
        assert_eq!(
            negotiate(&h, &[], &[]).unwrap_err().message,
            "Upgrade request required"
        );
        h.insert("upgrade", "SPDY/3.1".parse().unwrap());
        h.append(
            "x-stream-protocol-version",
            "v5.channel.k8s.io".parse().unwrap(),
        );
        h.append(
            "x-stream-protocol-version",
            "v4.channel.k8s.io".parse().unwrap(),
        );
        assert_eq!(
            negotiate(&h, &[], &[channels::V4]).unwrap(),
            Transport::Spdy("v4.channel.k8s.io".into())
        );
        let e = negotiate(&h, &[], &["portforward.k8s.io"]).unwrap_err();
        assert_eq!(e.code, 403);
        let r = switching(&Transport::Spdy("portforward.k8s.io".into()));
        assert_eq!(r.status, StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(r.headers["x-stream-protocol-version"], "portforward.k8s.io");
    }
}
