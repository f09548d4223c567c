//! The remote-command protocol v4 over SPDY: the client opens one stream per channel, named by
//! the `streamType` header (`error`, `stdin`, `stdout`, `stderr`, `resize`); the Status goes on
//! the error stream, terminal sizes arrive as a sequence of JSON objects on the resize stream.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;

use super::StreamOptions;
use super::channels::{self, Input, Output};
use super::spdy::{Stream, StreamWriter};

/// How long the client has to open all its streams.
const STREAMS_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Streams {
    error: Option<Stream>,
    stdin: Option<Stream>,
    stdout: Option<Stream>,
    stderr: Option<Stream>,
    resize: Option<Stream>,
}

impl Streams {
    fn complete(&self, o: StreamOptions) -> bool {
        self.error.is_some()
            && (!o.stdin || self.stdin.is_some())
            && (!o.stdout || self.stdout.is_some())
            && (!o.stderr || self.stderr.is_some())
            && (!o.tty || self.resize.is_some())
    }
}

/// Collects the streams of a connection, then runs the channel protocol on them (see
/// [`super::remote_command`]).
pub fn remote_command(
    mut accepted: mpsc::Receiver<Stream>,
    opts: StreamOptions,
) -> (mpsc::Receiver<Input>, mpsc::Sender<Output>) {
    let (in_tx, in_rx) = mpsc::channel(16);
    let (out_tx, mut out_rx) = mpsc::channel::<Output>(16);
    tokio::spawn(async move {
        let mut s = Streams::default();
        let collect = async {
            while !s.complete(opts) {
                let Some(stream) = accepted.recv().await else {
                    return false;
                };
                let slot = match stream.header("streamtype") {
                    Some("error") => &mut s.error,
                    Some("stdin") => &mut s.stdin,
                    Some("stdout") => &mut s.stdout,
                    Some("stderr") => &mut s.stderr,
                    Some("resize") => &mut s.resize,
                    other => {
                        tracing::debug!("exec over SPDY: unknown stream type {other:?}");
                        continue;
                    }
                };
                *slot = Some(stream);
            }
            true
        };
        if !matches!(
            tokio::time::timeout(STREAMS_TIMEOUT, collect).await,
            Ok(true)
        ) {
            tracing::debug!("exec over SPDY: the client did not open its streams");
            return;
        }
        if let Some(mut stdin) = s.stdin.take() {
            let tx = in_tx.clone();
            tokio::spawn(async move {
                while let Some(b) = stdin.incoming.recv().await {
                    if tx.send(Input::Stdin(b)).await.is_err() {
                        return;
                    }
                }
                let _ = tx.send(Input::StdinEnd).await;
            });
        }
        if let Some(mut resize) = s.resize.take() {
            let tx = in_tx.clone();
            tokio::spawn(async move {
                let mut buf = BytesMut::new();
                while let Some(b) = resize.incoming.recv().await {
                    buf.extend_from_slice(&b);
                    for size in take_sizes(&mut buf) {
                        if tx.send(size).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
        let writers = (
            s.error.map(|e| e.out),
            s.stdout.map(|e| e.out),
            s.stderr.map(|e| e.out),
        );
        let output = write_outputs(&mut out_rx, writers);
        // The client is gone when its connection ends: `in_tx` is dropped then.
        let gone = async { while accepted.recv().await.is_some() {} };
        tokio::select! {
            _ = output => {}
            _ = gone => {}
        }
        drop(in_tx);
    });
    (in_rx, out_tx)
}

async fn write_outputs(
    out_rx: &mut mpsc::Receiver<Output>,
    (error, stdout, stderr): (
        Option<StreamWriter>,
        Option<StreamWriter>,
        Option<StreamWriter>,
    ),
) {
    while let Some(out) = out_rx.recv().await {
        match out {
            Output::Stdout(b) => {
                if let Some(w) = &stdout
                    && !w.send(b).await
                {
                    return;
                }
            }
            Output::Stderr(b) => {
                if let Some(w) = &stderr
                    && !w.send(b).await
                {
                    return;
                }
            }
            Output::Status(v) => {
                for w in [&stdout, &stderr].into_iter().flatten() {
                    w.finish().await;
                }
                if let Some(w) = &error {
                    let json = serde_json::to_vec(&v).expect("a Status serializes");
                    w.send_and_finish(Bytes::from(json)).await;
                    w.close_connection().await;
                }
                return;
            }
        }
    }
}

/// Takes the complete JSON objects (terminal sizes) off the front of `buf`.
fn take_sizes(buf: &mut BytesMut) -> Vec<Input> {
    let mut sizes = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(buf).into_iter::<serde_json::Value>();
    let mut used = 0;
    while let Some(Ok(v)) = de.next() {
        used = de.byte_offset();
        if let Some(size) = channels::resize(v.to_string().as_bytes()) {
            sizes.push(size);
        }
    }
    let _ = buf.split_to(used);
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_split_across_chunks() {
        let mut buf = BytesMut::from(&b"{\"Width\":80,\"Height\":24}{\"Width\":100,"[..]);
        assert_eq!(
            take_sizes(&mut buf),
            vec![Input::Resize {
                width: 80,
                height: 24
            }]
        );
        buf.extend_from_slice(b"\"Height\":30}");
        assert_eq!(
            take_sizes(&mut buf),
            vec![Input::Resize {
                width: 100,
                height: 30
            }]
        );
        assert!(buf.is_empty());
    }
}
