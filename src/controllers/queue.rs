//! A keyed work queue, as controllers use one: a key added while it waits is not added twice,
//! a key can be added after a delay (a timer per key, keeping only the earliest), and failed
//! keys come back with a growing back-off. Hand-written: it is a few dozen lines over tokio's
//! `Notify` and timers, and no well-kept crate offers exactly this.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The first retry delay after a failure; it doubles per failure up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest retry delay.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

struct State<K> {
    order: VecDeque<K>,
    waiting: HashSet<K>,
    /// Keys with a pending timer, and when it fires.
    timers: HashMap<K, Instant>,
    /// Failures in a row per key.
    failures: HashMap<K, u32>,
}

/// A queue of keys to reconcile. Cloning gives another handle to the same queue.
pub struct Queue<K> {
    state: Arc<Mutex<State<K>>>,
    notify: Arc<Notify>,
}

impl<K> Clone for Queue<K> {
    fn clone(&self) -> Self {
        Queue {
            state: self.state.clone(),
            notify: self.notify.clone(),
        }
    }
}

impl<K: Clone + Eq + Hash + Send + 'static> Default for Queue<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Clone + Eq + Hash + Send + 'static> Queue<K> {
    /// An empty queue.
    pub fn new() -> Self {
        Queue {
            state: Arc::new(Mutex::new(State {
                order: VecDeque::new(),
                waiting: HashSet::new(),
                timers: HashMap::new(),
                failures: HashMap::new(),
            })),
            notify: Arc::new(Notify::new()),
        }
    }

    /// Adds `key` now, unless it is already waiting.
    pub fn add(&self, key: K) {
        let mut s = self.state.lock().expect("queue lock");
        if s.waiting.insert(key.clone()) {
            s.order.push_back(key);
            drop(s);
            self.notify.notify_one();
        }
    }

    /// Adds `key` once `delay` has passed. Only the earliest pending timer of a key is kept.
    pub fn add_after(&self, key: K, delay: Duration) {
        if delay.is_zero() {
            return self.add(key);
        }
        let at = Instant::now() + delay;
        {
            let mut s = self.state.lock().expect("queue lock");
            match s.timers.get(&key) {
                Some(existing) if *existing <= at => return,
                _ => {
                    s.timers.insert(key.clone(), at);
                }
            }
        }
        let queue = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(at).await;
            let fire = {
                let mut s = queue.state.lock().expect("queue lock");
                if s.timers.get(&key) == Some(&at) {
                    s.timers.remove(&key);
                    true
                } else {
                    false
                }
            };
            if fire {
                queue.add(key);
            }
        });
    }

    /// Adds `key` again after a back-off that grows with its failures in a row.
    pub fn retry(&self, key: K) {
        let failures = {
            let mut s = self.state.lock().expect("queue lock");
            let n = s.failures.entry(key.clone()).or_insert(0);
            *n = n.saturating_add(1);
            *n
        };
        let delay = FIRST_BACKOFF
            .saturating_mul(1u32 << (failures - 1).min(16))
            .min(MAX_BACKOFF);
        self.add_after(key, delay);
    }

    /// Forgets the failures of `key` (it was reconciled).
    pub fn forget(&self, key: &K) {
        self.state.lock().expect("queue lock").failures.remove(key);
    }

    /// The next key to work on, waiting until there is one.
    pub async fn next(&self) -> K {
        loop {
            let notified = self.notify.notified();
            {
                let mut s = self.state.lock().expect("queue lock");
                if let Some(key) = s.order.pop_front() {
                    s.waiting.remove(&key);
                    return key;
                }
            }
            notified.await;
        }
    }
}

/// Takes keys from `queue` one at a time, forever, and hands each to `sync`: a key that
/// synced is forgotten (and queued again after the delay `sync` returned, if any); one that
/// failed comes back with the queue's back-off. `kind` names the objects in logs.
pub async fn reconcile_forever<K, F, Fut>(queue: &Queue<K>, kind: &str, sync: F)
where
    K: Clone + Eq + Hash + Send + std::fmt::Debug + 'static,
    F: Fn(K) -> Fut,
    Fut: Future<Output = Result<Option<Duration>, crate::api::status::Status>>,
{
    loop {
        let key = queue.next().await;
        match sync(key.clone()).await {
            Ok(recheck) => {
                queue.forget(&key);
                if let Some(after) = recheck {
                    queue.add_after(key, after);
                }
            }
            Err(e) => {
                tracing::debug!("syncing {kind} {key:?}: {e}");
                queue.retry(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_waiting_key_is_not_added_twice() {
        let q = Queue::new();
        q.add("a");
        q.add("b");
        q.add("a");
        assert_eq!(q.next().await, "a");
        assert_eq!(q.next().await, "b");
        q.add("a");
        assert_eq!(q.next().await, "a");
        assert!(q.state.lock().unwrap().order.is_empty());
    }

    #[tokio::test]
    async fn delayed_keys_keep_the_earliest_timer() {
        let q = Queue::new();
        q.add_after("late", Duration::from_millis(200));
        q.add_after("late", Duration::from_millis(600));
        q.add_after("soon", Duration::from_millis(100));
        let started = Instant::now();
        assert_eq!(q.next().await, "soon");
        assert!(started.elapsed() >= Duration::from_millis(100));
        assert_eq!(q.next().await, "late");
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(200) && waited < Duration::from_millis(600),
            "{waited:?}"
        );
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(
            q.state.lock().unwrap().order.is_empty(),
            "the later timer was dropped"
        );
    }

    #[tokio::test]
    async fn retries_back_off_and_forget_resets() {
        let q = Queue::new();
        q.retry("k");
        q.retry("k");
        assert_eq!(q.state.lock().unwrap().failures[&"k"], 2);
        let started = Instant::now();
        q.next().await;
        // The first retry's timer (100 ms) fired; the second (200 ms) was later and dropped.
        assert!(started.elapsed() < Duration::from_millis(200));
        q.forget(&"k");
        assert!(q.state.lock().unwrap().failures.is_empty());
    }
}
