//! A deadline on a connection's first bytes. hyper-util's protocol detection reads up to the
//! HTTP/2 preface before handing the connection to HTTP/1 or HTTP/2, and neither protocol's
//! timeouts run during that read: a client that finishes the TLS handshake and then sends
//! nothing (or a few bytes) would hold its connection forever. No crate offers this for a
//! tokio stream, so it is written here: reads fail with `TimedOut` if the first
//! [`PREFACE_LEN`](super::limits::PREFACE_LEN) bytes have not all arrived by the deadline;
//! afterwards the wrapper only passes bytes through.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// A stream whose first `needed` bytes must arrive before a deadline.
pub struct FirstBytesDeadline<T> {
    inner: T,
    /// Bytes still to arrive before the deadline stops applying.
    needed: usize,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<T> FirstBytesDeadline<T> {
    /// Wraps `inner`: its first `needed` bytes must arrive within `within`.
    pub fn new(inner: T, needed: usize, within: Duration) -> Self {
        FirstBytesDeadline {
            inner,
            needed,
            deadline: Some(Box::pin(tokio::time::sleep(within))),
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for FirstBytesDeadline<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Some(deadline) = this.deadline.as_mut() {
            match polled {
                Poll::Ready(Ok(())) => {
                    let got = buf.filled().len() - before;
                    this.needed = this.needed.saturating_sub(got);
                    if this.needed == 0 || got == 0 {
                        // All the bytes that tell the protocol, or the end of the stream.
                        this.deadline = None;
                    }
                }
                Poll::Pending if deadline.as_mut().poll(cx).is_ready() => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client sent no request in time",
                    )));
                }
                _ => {}
            }
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for FirstBytesDeadline<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_silent_client_times_out() {
        let (client, server) = tokio::io::duplex(64);
        let mut s = FirstBytesDeadline::new(server, 4, Duration::from_millis(100));
        let mut buf = [0u8; 8];
        let err = s.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(client);
    }

    #[tokio::test]
    async fn a_client_that_stops_after_a_few_bytes_times_out() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut s = FirstBytesDeadline::new(server, 4, Duration::from_millis(100));
        client.write_all(b"PR").await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(s.read(&mut buf).await.unwrap(), 2);
        let err = s.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test]
    async fn after_the_first_bytes_silence_is_allowed() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut s = FirstBytesDeadline::new(server, 4, Duration::from_millis(100));
        client.write_all(b"GET / HTTP/1.1").await.unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(s.read(&mut buf).await.unwrap(), 14);
        // A long quiet time (a watch) does not end the stream.
        let late = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(400)).await;
            client.write_all(b"x").await.unwrap();
            client
        });
        assert_eq!(s.read(&mut buf).await.unwrap(), 1);
        drop(late.await.unwrap());
    }
}
