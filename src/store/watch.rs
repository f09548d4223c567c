//! One watcher's end of the hub: replayed history first, then live events.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio::sync::mpsc;

use super::event::Event;
use super::hub::{Backlog, Hub};

/// A stream of the events of one resource (optionally one namespace), in
/// revision order, with no gap and no duplicate.
///
/// The stream ends when the watcher fell too far behind (its queue filled
/// up, in events or in bytes; see [`Watch::overflowed`]) or when the store
/// had to reopen its database; [`Watch::ended`] tells that to whoever does
/// not poll the stream (a response the client stopped reading). Either way the API layer ends the HTTP response cleanly and the
/// client resumes or re-lists. Dropping the `Watch` unsubscribes it.
pub struct Watch {
    hub: Arc<Hub>,
    id: u64,
    /// Events at or below this revision are skipped (the watch started after it).
    after: u64,
    replay: VecDeque<Event>,
    rx: mpsc::Receiver<(Event, usize)>,
    backlog: Arc<Backlog>,
}

/// Resolves once the hub will send a [`Watch`] nothing more (see [`Watch::ended`]).
#[derive(Clone, Debug)]
pub struct Ended(Arc<Backlog>);

impl Ended {
    /// Waits until the hub ended the watch.
    pub async fn wait(&self) {
        self.0.ended().await
    }
}

impl Watch {
    pub(crate) fn new(
        hub: Arc<Hub>,
        id: u64,
        after: u64,
        replay: VecDeque<Event>,
        rx: mpsc::Receiver<(Event, usize)>,
        backlog: Arc<Backlog>,
    ) -> Self {
        Watch {
            hub,
            id,
            after,
            replay,
            rx,
            backlog,
        }
    }

    /// The next event, or `None` once the stream has ended.
    pub async fn recv(&mut self) -> Option<Event> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The next event if one is ready now; `None` if none is waiting or the
    /// stream has ended.
    pub fn try_recv(&mut self) -> Option<Event> {
        if let Some(event) = self.replay.pop_front() {
            return Some(self.seen(event));
        }
        while let Ok((event, size)) = self.rx.try_recv() {
            self.backlog.received(size);
            if event.revision > self.after {
                return Some(self.seen(event));
            }
        }
        None
    }

    /// Whether the hub dropped this watcher because it did not keep up.
    pub fn overflowed(&self) -> bool {
        self.backlog.overflowed()
    }

    /// A future-maker that resolves once the hub has ended this watch (it
    /// overflowed, or the store reopened): the queued events are still
    /// readable, then the stream ends. Usable without polling the stream.
    pub fn ended(&self) -> Ended {
        Ended(self.backlog.clone())
    }

    /// The revision for a BOOKMARK event: when every event this watcher will
    /// ever receive up to some revision has been returned already, that
    /// revision; `None` while events are still waiting or after the stream
    /// ended.
    pub fn bookmark_revision(&self) -> Option<u64> {
        if !self.replay.is_empty() {
            return None;
        }
        self.hub
            .caught_up(self.id, || self.rx.is_empty())
            .map(|current| current.max(self.after))
    }

    fn seen(&mut self, event: Event) -> Event {
        self.after = event.revision;
        event
    }
}

impl Stream for Watch {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let this = &mut *self;
        if let Some(event) = this.replay.pop_front() {
            return Poll::Ready(Some(this.seen(event)));
        }
        loop {
            match this.rx.poll_recv(cx) {
                Poll::Ready(Some((event, size))) => {
                    this.backlog.received(size);
                    if event.revision > this.after {
                        return Poll::Ready(Some(this.seen(event)));
                    }
                }
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.hub.unsubscribe(self.id);
    }
}

impl fmt::Debug for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watch")
            .field("id", &self.id)
            .field("after", &self.after)
            .field("replay", &self.replay.len())
            .field("queued", &self.rx.len())
            .field("overflowed", &self.overflowed())
            .finish()
    }
}
