//! The watch hub: a bounded history of recent events and the live
//! subscribers, behind one lock so that a new watch's replay and its live
//! feed meet with no gap and no duplicate.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{Notify, mpsc};

use super::error::StoreError;
use super::event::Event;
use super::watch::Watch;

/// Bounds of the hub's memory.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HubLimits {
    /// Most events in the history.
    pub history_events: usize,
    /// Most estimated bytes in the history.
    pub history_bytes: usize,
    /// Capacity of each watcher's queue, in events.
    pub watch_queue: usize,
    /// Most estimated bytes one watcher's queue may pin (events are shared,
    /// but a watcher that stopped reading keeps alive the ones the history
    /// has already let go).
    pub watch_queue_bytes: usize,
}

/// What the hub and one watcher share about the watcher's queue.
#[derive(Debug, Default)]
pub(crate) struct Backlog {
    /// Estimated bytes of the events waiting in the queue.
    bytes: AtomicUsize,
    /// The hub dropped the watcher because its queue was full.
    overflowed: AtomicBool,
    /// The hub will send nothing more (overflow, or the store reopened).
    ended: AtomicBool,
    /// Woken when `ended` is set.
    notify: Notify,
}

impl Backlog {
    fn end(&self, overflowed: bool) {
        if overflowed {
            self.overflowed.store(true, Ordering::Release);
        }
        self.ended.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }

    /// Whether the hub dropped the watcher because it did not keep up.
    pub(crate) fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Acquire)
    }

    /// A received event's bytes leave the queue.
    pub(crate) fn received(&self, size: usize) {
        self.bytes.fetch_sub(size, Ordering::AcqRel);
    }

    /// Resolves once the hub has ended the watcher.
    pub(crate) async fn ended(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.ended.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }
}

/// Publishes events to watchers. Shared by the store and every [`Watch`].
#[derive(Debug)]
pub(crate) struct Hub {
    limits: HubLimits,
    state: Mutex<HubState>,
}

#[derive(Debug)]
struct HubState {
    /// Recent events in revision order, with their estimated sizes.
    history: VecDeque<(Event, usize)>,
    /// Sum of the estimated sizes in `history`.
    history_bytes: usize,
    /// Every event with a revision above this one is in `history`.
    start: u64,
    /// The revision of the last published event (or the store's revision at open).
    current: u64,
    subscribers: Vec<Subscriber>,
    next_id: u64,
}

#[derive(Debug)]
struct Subscriber {
    id: u64,
    group: String,
    resource: String,
    namespace: Option<String>,
    tx: mpsc::Sender<(Event, usize)>,
    backlog: Arc<Backlog>,
}

impl Subscriber {
    fn wants(&self, event: &Event) -> bool {
        event
            .key
            .matches(&self.group, &self.resource, self.namespace.as_deref())
    }
}

impl Hub {
    /// A hub with an empty history, starting at `revision`.
    pub(crate) fn new(revision: u64, limits: HubLimits) -> Self {
        Hub {
            limits: HubLimits {
                watch_queue: limits.watch_queue.max(1),
                ..limits
            },
            state: Mutex::new(HubState {
                history: VecDeque::new(),
                history_bytes: 0,
                start: revision,
                current: revision,
                subscribers: Vec::new(),
                next_id: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HubState> {
        // Nothing in the critical sections can leave the state half-updated
        // in a way that matters, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records `event` (the store calls this in revision order, once per
    /// committed write) and hands it to every interested watcher. A watcher
    /// whose queue is full (in events or in bytes) is dropped and told so
    /// through its [`Backlog`]; this never waits, so a watcher that stopped
    /// reading holds up neither the writers nor the other watchers.
    pub(crate) fn publish(&self, event: Event) {
        crate::memory::activity();
        let size = event.memory_size();
        let mut state = self.lock();
        debug_assert!(event.revision > state.current);
        state.current = event.revision;
        state.subscribers.retain(|sub| {
            if !sub.wants(&event) {
                return !sub.tx.is_closed();
            }
            let queued = sub.backlog.bytes.load(Ordering::Acquire);
            // One event bigger than the bound still goes to a watcher that keeps up.
            let too_big = queued > 0 && queued + size > self.limits.watch_queue_bytes;
            let sent = if too_big {
                Err(TrySendError::Full(()))
            } else {
                sub.backlog.bytes.fetch_add(size, Ordering::AcqRel);
                sub.tx.try_send((event.clone(), size)).map_err(|e| {
                    sub.backlog.bytes.fetch_sub(size, Ordering::AcqRel);
                    match e {
                        TrySendError::Full(_) => TrySendError::Full(()),
                        TrySendError::Closed(_) => TrySendError::Closed(()),
                    }
                })
            };
            match sent {
                Ok(()) => true,
                Err(TrySendError::Full(())) => {
                    sub.backlog.end(true);
                    tracing::debug!(watcher = sub.id, "dropping a watcher that fell behind");
                    false
                }
                Err(TrySendError::Closed(())) => false,
            }
        });
        state.history_bytes += size;
        state.history.push_back((event, size));
        while state.history.len() > self.limits.history_events
            || state.history_bytes > self.limits.history_bytes
        {
            let Some((old, old_size)) = state.history.pop_front() else {
                break;
            };
            state.history_bytes -= old_size;
            state.start = old.revision;
        }
    }

    /// Subscribes to the events of `group`/`resource` (in `namespace` if
    /// given) with a revision above `since` (above the current revision when
    /// `None`).
    pub(crate) fn subscribe(
        self: &Arc<Self>,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
        since: Option<u64>,
    ) -> Result<Watch, StoreError> {
        let mut state = self.lock();
        let after = match since {
            None => state.current,
            Some(since) if since < state.start => {
                return Err(StoreError::Gone {
                    requested: since,
                    oldest: state.start,
                });
            }
            Some(since) => since,
        };
        let replay: VecDeque<Event> = state
            .history
            .iter()
            .map(|(event, _)| event)
            .filter(|event| event.revision > after && event.key.matches(group, resource, namespace))
            .cloned()
            .collect();
        let (tx, rx) = mpsc::channel(self.limits.watch_queue);
        let backlog = Arc::new(Backlog::default());
        let id = state.next_id;
        state.next_id += 1;
        state.subscribers.push(Subscriber {
            id,
            group: group.to_owned(),
            resource: resource.to_owned(),
            namespace: namespace.map(str::to_owned),
            tx,
            backlog: backlog.clone(),
        });
        Ok(Watch::new(self.clone(), id, after, replay, rx, backlog))
    }

    /// Forgets a watcher (its [`Watch`] was dropped).
    pub(crate) fn unsubscribe(&self, id: u64) {
        self.lock().subscribers.retain(|sub| sub.id != id);
    }

    /// The revision up to which watcher `id` has been handed every event,
    /// provided nothing is waiting in its queue (`queue_empty` is evaluated
    /// under the hub's lock, so no event can slip in between).
    pub(crate) fn caught_up(&self, id: u64, queue_empty: impl FnOnce() -> bool) -> Option<u64> {
        let state = self.lock();
        let registered = state.subscribers.iter().any(|sub| sub.id == id);
        (registered && queue_empty()).then_some(state.current)
    }

    /// The oldest revision a watch can resume after.
    pub(crate) fn oldest(&self) -> u64 {
        self.lock().start
    }

    /// Forgets the history and ends every watch: the store's revision moved
    /// without events (after reopening the database), so resuming would miss
    /// changes. Clients re-list.
    pub(crate) fn reset(&self, revision: u64) {
        let mut state = self.lock();
        state.history.clear();
        state.history_bytes = 0;
        state.start = revision;
        state.current = revision;
        for sub in state.subscribers.drain(..) {
            sub.backlog.end(false);
        }
    }

    /// Number of live watchers.
    #[cfg(test)]
    pub(crate) fn watcher_count(&self) -> usize {
        self.lock().subscribers.len()
    }

    /// Number of events and estimated bytes in the history.
    #[cfg(test)]
    pub(crate) fn history_usage(&self) -> (usize, usize) {
        let state = self.lock();
        (state.history.len(), state.history_bytes)
    }
}
