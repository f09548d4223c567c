//! WebSocket transports of the streaming subresources, on `tokio-tungstenite`: the handshake
//! checks, the remote-command channels of exec and attach, and the byte pipe that carries
//! SPDY for port-forward (`SPDY/3.1+portforward.k8s.io`).

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::HeaderMap;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, frame::coding::CloseCode};

use super::channels::{self, Input, Output};
use crate::api::Status;

/// A WebSocket over an upgraded HTTP connection.
pub type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// A checked WebSocket handshake.
#[derive(Debug, PartialEq)]
pub struct Handshake {
    /// `Sec-WebSocket-Accept` of the answer.
    pub accept: String,
    /// The subprotocol chosen.
    pub protocol: String,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether the request asks for a WebSocket.
pub fn requested(headers: &HeaderMap) -> bool {
    header(headers, "upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
}

/// Checks a WebSocket upgrade request and picks the first subprotocol of the client's list that
/// is in `supported`.
pub fn handshake(headers: &HeaderMap, supported: &[&str]) -> Result<Handshake, Status> {
    let version = header(headers, "sec-websocket-version").unwrap_or("");
    if version.trim() != "13" {
        return Err(Status::bad_request(format!(
            "websocket upgrade: unsupported Sec-WebSocket-Version {version:?} (only 13 is supported)"
        )));
    }
    let key = header(headers, "sec-websocket-key").unwrap_or("").trim();
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD.decode(key);
    if !matches!(decoded, Ok(ref k) if k.len() == 16) {
        return Err(Status::bad_request(format!(
            "websocket upgrade: Sec-WebSocket-Key {key:?} is not 16 bytes in base64"
        )));
    }
    let offered: Vec<&str> = headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let protocol = offered
        .iter()
        .find(|p| supported.contains(p))
        .ok_or_else(|| {
            Status::bad_request(format!(
                "websocket upgrade: none of the subprotocols [{}] is supported; supported: [{}]",
                offered.join(", "),
                supported.join(", ")
            ))
        })?;
    Ok(Handshake {
        accept: tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes()),
        protocol: protocol.to_string(),
    })
}

/// Takes over an upgraded connection as the server side of a WebSocket.
pub async fn accept(io: TokioIo<Upgraded>) -> Socket {
    WebSocketStream::from_raw_socket(io, Role::Server, None).await
}

/// Runs the channel protocol on a WebSocket: client messages arrive on the first channel (which
/// ends when the client is gone), server messages are sent from the second; a Status is sent
/// last, followed by a close frame. With a terminal, stderr is never sent.
pub fn remote_command(
    ws: Socket,
    version5: bool,
    tty: bool,
) -> (mpsc::Receiver<Input>, mpsc::Sender<Output>) {
    let (in_tx, in_rx) = mpsc::channel(16);
    let (out_tx, mut out_rx) = mpsc::channel::<Output>(16);
    let (mut sink, mut stream) = ws.split();
    let reader = tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            match msg {
                Message::Binary(b) => {
                    if let Some(i) = channels::decode_client(version5, &b)
                        && in_tx.send(i).await.is_err()
                    {
                        break;
                    }
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
    });
    tokio::spawn(async move {
        while let Some(out) = out_rx.recv().await {
            if tty && matches!(out, Output::Stderr(_)) {
                continue;
            }
            let last = matches!(out, Output::Status(_));
            let msg = Message::Binary(Bytes::from(channels::encode_server(&out)));
            if sink.send(msg).await.is_err() {
                break;
            }
            if last {
                let _ = sink
                    .send(Message::Close(Some(CloseFrame {
                        code: CloseCode::Normal,
                        reason: "".into(),
                    })))
                    .await;
                break;
            }
        }
        let _ = sink.close().await;
        reader.abort();
    });
    (in_rx, out_tx)
}

/// Turns a WebSocket whose binary messages carry a byte stream (SPDY tunnelled for
/// port-forward) into a byte stream: the returned end reads what the client sends and writes
/// what goes back, one binary message per write.
pub fn byte_pipe(ws: Socket) -> DuplexStream {
    let (ours, theirs) = tokio::io::duplex(256 * 1024);
    let (mut rd, mut wr) = tokio::io::split(ours);
    let (mut sink, mut stream) = ws.split();
    let inbound = tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            match msg {
                Message::Binary(b) if wr.write_all(&b).await.is_err() => break,
                Message::Close(_) => break,
                _ => {}
            }
        }
        let _ = wr.shutdown().await;
    });
    tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if sink
                        .send(Message::Binary(Bytes::copy_from_slice(&buf[..n])))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            })))
            .await;
        let _ = sink.close().await;
        inbound.abort();
    });
    theirs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(version: &str, key: &str, protocols: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("upgrade", "websocket".parse().unwrap());
        h.insert("sec-websocket-version", version.parse().unwrap());
        h.insert("sec-websocket-key", key.parse().unwrap());
        h.insert("sec-websocket-protocol", protocols.parse().unwrap());
        h
    }

    #[test]
    fn picks_the_clients_first_supported_protocol() {
        let h = request(
            "13",
            "dGhlIHNhbXBsZSBub25jZQ==",
            "v5.channel.k8s.io, v4.channel.k8s.io",
        );
        assert!(requested(&h));
        let got = handshake(&h, &[channels::V4, channels::V5]).unwrap();
        assert_eq!(got.protocol, "v5.channel.k8s.io");
        // The example of RFC 6455, section 1.3.
        assert_eq!(got.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn bad_handshakes_are_refused_with_a_reason() {
        let e = handshake(
            &request("8", "dGhlIHNhbXBsZSBub25jZQ==", "v5.channel.k8s.io"),
            &[channels::V5],
        )
        .unwrap_err();
        assert!(e.message.contains("Sec-WebSocket-Version"), "{}", e.message);
        let e = handshake(
            &request("13", "short", "v5.channel.k8s.io"),
            &[channels::V5],
        )
        .unwrap_err();
        assert!(e.message.contains("Sec-WebSocket-Key"), "{}", e.message);
        let e = handshake(
            &request("13", "dGhlIHNhbXBsZSBub25jZQ==", "chat"),
            &[channels::V5],
        )
        .unwrap_err();
        assert_eq!(e.code, 400);
        assert!(e.message.contains("[chat]"), "{}", e.message);
    }
}
