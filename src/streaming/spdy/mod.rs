//! SPDY/3.1 as Kubernetes' streaming endpoints speak it: the server side of a connection whose
//! peer opens streams (one per exec channel, two per forwarded connection), sends their data
//! and half-closes them. Server-initiated streams, priorities and flow control are not used
//! by those peers and are not implemented.

pub mod dictionary;
pub mod frame;

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

pub use frame::{Frame, Headers, header};

/// Queued data chunks per stream before the connection waits for its reader.
const STREAM_QUEUE: usize = 32;
/// Queued frames before writers wait for the connection.
const WRITE_QUEUE: usize = 64;
/// `RST_STREAM` status: the stream was refused.
const REFUSED_STREAM: u32 = 3;
/// `GOAWAY` status: protocol error.
const PROTOCOL_ERROR: u32 = 1;

enum Out {
    Frame(Frame),
    Close,
}

/// The sending half of one stream (cheap to clone).
#[derive(Clone)]
pub struct StreamWriter {
    id: u32,
    tx: mpsc::Sender<Out>,
}

impl StreamWriter {
    /// Sends data; `false` once the connection is gone.
    pub async fn send(&self, data: Bytes) -> bool {
        self.tx
            .send(Out::Frame(Frame::Data {
                stream: self.id,
                fin: false,
                data,
            }))
            .await
            .is_ok()
    }

    /// Half-closes the stream (an empty data frame with `FLAG_FIN`).
    pub async fn finish(&self) {
        let _ = self
            .tx
            .send(Out::Frame(Frame::Data {
                stream: self.id,
                fin: true,
                data: Bytes::new(),
            }))
            .await;
    }

    /// Sends data and half-closes the stream.
    pub async fn send_and_finish(&self, data: Bytes) {
        let _ = self
            .tx
            .send(Out::Frame(Frame::Data {
                stream: self.id,
                fin: true,
                data,
            }))
            .await;
    }

    /// Ends the whole connection after the frames queued so far.
    pub async fn close_connection(&self) {
        let _ = self.tx.send(Out::Close).await;
    }
}

/// A stream the peer opened.
pub struct Stream {
    /// Its id.
    pub id: u32,
    /// Its headers (names lower-cased).
    pub headers: Headers,
    /// The data the peer sends; ends when the peer half-closes or resets the stream, or the
    /// connection ends.
    pub incoming: mpsc::Receiver<Bytes>,
    /// The way back.
    pub out: StreamWriter,
}

impl Stream {
    /// A header of the stream.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// Serves a SPDY connection on `io`: every stream the peer opens is answered with a
/// `SYN_REPLY` and handed out on the returned channel, which ends with the connection.
pub fn serve<IO>(io: IO) -> mpsc::Receiver<Stream>
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut rd, wr) = tokio::io::split(io);
    let (out_tx, out_rx) = mpsc::channel(WRITE_QUEUE);
    let (accept_tx, accept_rx) = mpsc::channel(16);
    tokio::spawn(write_loop(wr, out_rx));
    tokio::spawn(async move {
        if let Err(e) = read_loop(&mut rd, &out_tx, accept_tx).await {
            tracing::debug!("SPDY connection ended: {e}");
            let _ = out_tx
                .send(Out::Frame(Frame::GoAway {
                    last_stream: 0,
                    status: PROTOCOL_ERROR,
                }))
                .await;
            let _ = out_tx.send(Out::Close).await;
        }
    });
    accept_rx
}

async fn write_loop<W: AsyncWrite + Unpin>(mut wr: W, mut rx: mpsc::Receiver<Out>) {
    let mut deflater = frame::Deflater::default();
    let mut buf = BytesMut::new();
    while let Some(out) = rx.recv().await {
        let mut close = false;
        let mut next = Some(out);
        // Write what is queued in one go.
        while let Some(o) = next.take() {
            match o {
                Out::Frame(f) => frame::encode(&f, &mut deflater, &mut buf),
                Out::Close => {
                    close = true;
                    break;
                }
            }
            if buf.len() < 256 * 1024 {
                next = rx.try_recv().ok();
            }
        }
        if !buf.is_empty() && wr.write_all(&buf).await.is_err() {
            return;
        }
        buf.clear();
        if wr.flush().await.is_err() {
            return;
        }
        if close {
            let _ = wr.shutdown().await;
            return;
        }
    }
    let _ = wr.shutdown().await;
}

async fn read_loop<R: AsyncRead + Unpin>(
    rd: &mut R,
    out: &mpsc::Sender<Out>,
    accept: mpsc::Sender<Stream>,
) -> Result<(), frame::FrameError> {
    let mut inflater = frame::Inflater::default();
    let mut streams: HashMap<u32, mpsc::Sender<Bytes>> = HashMap::new();
    let mut head = [0u8; 8];
    loop {
        match rd.read_exact(&mut head).await {
            Ok(_) => {}
            Err(_) => return Ok(()),
        }
        let len = frame::payload_len(&head);
        let mut payload = vec![0u8; len];
        if rd.read_exact(&mut payload).await.is_err() {
            return Ok(());
        }
        let frame = frame::decode(&head, Bytes::from(payload), &mut inflater)?;
        match frame {
            Frame::SynStream {
                stream,
                fin,
                headers,
                ..
            } => {
                let (tx, rx) = mpsc::channel(STREAM_QUEUE);
                let reply = Frame::SynReply {
                    stream,
                    fin: false,
                    headers: Vec::new(),
                };
                if out.send(Out::Frame(reply)).await.is_err() {
                    return Ok(());
                }
                if !fin {
                    streams.insert(stream, tx);
                }
                let s = Stream {
                    id: stream,
                    headers,
                    incoming: rx,
                    out: StreamWriter {
                        id: stream,
                        tx: out.clone(),
                    },
                };
                if accept.send(s).await.is_err() {
                    streams.remove(&stream);
                    let _ = out
                        .send(Out::Frame(Frame::RstStream {
                            stream,
                            status: REFUSED_STREAM,
                        }))
                        .await;
                }
            }
            Frame::Data { stream, fin, data } => {
                if let Some(tx) = streams.get(&stream) {
                    if !data.is_empty() && tx.send(data).await.is_err() {
                        // The reader went away: drop what the peer still sends.
                        streams.remove(&stream);
                    }
                    if fin {
                        streams.remove(&stream);
                    }
                }
            }
            Frame::RstStream { stream, .. } => {
                streams.remove(&stream);
            }
            Frame::Ping(id) => {
                let _ = out.send(Out::Frame(Frame::Ping(id))).await;
            }
            Frame::GoAway { .. } => return Ok(()),
            Frame::SynReply { .. }
            | Frame::Settings
            | Frame::Headers { .. }
            | Frame::WindowUpdate => {}
        }
    }
}

/// Reads a SPDY client's frames from the other end of [`serve`] (tests).
#[cfg(test)]
pub(crate) struct TestPeer<IO> {
    io: IO,
    deflater: frame::Deflater,
    inflater: frame::Inflater,
}

#[cfg(test)]
impl<IO: AsyncRead + AsyncWrite + Unpin> TestPeer<IO> {
    pub(crate) fn new(io: IO) -> Self {
        TestPeer {
            io,
            deflater: frame::Deflater::default(),
            inflater: frame::Inflater::default(),
        }
    }

    pub(crate) async fn send(&mut self, f: Frame) {
        let mut b = BytesMut::new();
        frame::encode(&f, &mut self.deflater, &mut b);
        self.io.write_all(&b).await.unwrap();
    }

    pub(crate) async fn recv(&mut self) -> Option<Frame> {
        let mut head = [0u8; 8];
        self.io.read_exact(&mut head).await.ok()?;
        let mut p = vec![0u8; frame::payload_len(&head)];
        self.io.read_exact(&mut p).await.ok()?;
        Some(frame::decode(&head, Bytes::from(p), &mut self.inflater).unwrap())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn streams_are_answered_and_carry_data_both_ways() {
        let (a, b) = tokio::io::duplex(1 << 16);
        let mut accepted = serve(a);
        let mut peer = TestPeer::new(b);
        peer.send(Frame::SynStream {
            stream: 1,
            associated: 0,
            fin: false,
            headers: vec![("streamType".into(), "data".into())],
        })
        .await;
        assert_eq!(
            peer.recv().await,
            Some(Frame::SynReply {
                stream: 1,
                fin: false,
                headers: vec![]
            })
        );
        let mut s = accepted.recv().await.unwrap();
        assert_eq!(s.header("streamtype"), Some("data"));
        peer.send(Frame::Data {
            stream: 1,
            fin: true,
            data: Bytes::from_static(b"ping"),
        })
        .await;
        assert_eq!(s.incoming.recv().await.as_deref(), Some(&b"ping"[..]));
        assert_eq!(s.incoming.recv().await, None, "FIN ends the stream");
        s.out.send_and_finish(Bytes::from_static(b"pong")).await;
        assert_eq!(
            peer.recv().await,
            Some(Frame::Data {
                stream: 1,
                fin: true,
                data: Bytes::from_static(b"pong")
            })
        );
        peer.send(Frame::Ping(3)).await;
        assert_eq!(peer.recv().await, Some(Frame::Ping(3)));
    }

    #[tokio::test]
    async fn garbage_ends_the_connection_with_goaway() {
        let (a, b) = tokio::io::duplex(1 << 16);
        let mut accepted = serve(a);
        let mut peer = TestPeer::new(b);
        peer.io
            .write_all(&[
                0x80, 3, 0, 1, 0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 2,
            ])
            .await
            .unwrap();
        assert!(matches!(
            peer.recv().await,
            Some(Frame::GoAway {
                status: PROTOCOL_ERROR,
                ..
            })
        ));
        assert!(accepted.recv().await.is_none());
        assert!(peer.recv().await.is_none(), "connection closed");
    }
}
