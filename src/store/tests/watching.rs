//! Watches: replay then live, filtering, no gap or duplicate under
//! concurrent writers, Gone, slow watchers, bounded memory.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;

use super::{TempDir, cm, cm_obj, rv};
use crate::store::{Event, EventKind, ObjectKey, Store, StoreError, StoreOptions, Watch};

fn drain(watch: &mut Watch) -> Vec<Event> {
    std::iter::from_fn(|| watch.try_recv()).collect()
}

fn revisions(events: &[Event]) -> Vec<u64> {
    events.iter().map(|e| e.revision).collect()
}

#[tokio::test]
async fn replays_history_then_follows_live_writes() {
    let dir = TempDir::new("watch");
    let store = Store::open(dir.path()).unwrap();
    let key = cm("default", "a");
    let r1 = rv(&store.create(&key, cm_obj(&key, "1")).unwrap());
    let r2 = rv(&store.update(&key, cm_obj(&key, "2"), None).unwrap());
    let r3 = rv(&store.update(&key, cm_obj(&key, "3"), None).unwrap());
    let mut watch = store.watch("", "configmaps", None, Some(r1)).unwrap();
    let first = watch.recv().await.unwrap();
    assert_eq!((first.kind, first.revision), (EventKind::Modified, r2));
    assert_eq!(first.object["data"]["value"], "2");
    assert_eq!(watch.recv().await.unwrap().revision, r3);
    let deleted = store.delete(&key, None).unwrap();
    let live = watch.next().await.unwrap();
    assert_eq!(live.kind, EventKind::Deleted);
    assert_eq!(*live.object, deleted);
    assert_eq!(rv(&live.object), live.revision);
    assert_eq!(live.object["data"]["value"], "3");
    assert_eq!(*live.key, key);
}

#[tokio::test]
async fn watching_from_now_sees_only_later_writes() {
    let dir = TempDir::new("watch");
    let store = Store::open(dir.path()).unwrap();
    let key = cm("default", "a");
    store.create(&key, cm_obj(&key, "1")).unwrap();
    let mut watch = store.watch("", "configmaps", None, None).unwrap();
    assert!(watch.try_recv().is_none());
    let updated = store.update(&key, cm_obj(&key, "2"), None).unwrap();
    let event = watch.recv().await.unwrap();
    assert_eq!(event.revision, rv(&updated));
    // Watching from the current revision is the same.
    let mut same = store
        .watch("", "configmaps", None, Some(store.current_revision()))
        .unwrap();
    assert!(same.try_recv().is_none());
}

#[test]
fn the_hub_filters_by_resource_and_namespace() {
    let dir = TempDir::new("watch");
    let store = Store::open(dir.path()).unwrap();
    let since = store.current_revision();
    let mut in_a = store.watch("", "configmaps", Some("a"), None).unwrap();
    let mut all = store.watch("", "configmaps", None, None).unwrap();
    let mut nodes = store.watch("", "nodes", None, None).unwrap();
    for key in [cm("a", "x"), cm("b", "x"), cm("a", "y")] {
        store.create(&key, cm_obj(&key, "v")).unwrap();
    }
    store
        .create(&ObjectKey::new("", "secrets", "a", "x"), json!({}))
        .unwrap();
    store
        .create(&ObjectKey::cluster("", "nodes", "n1"), json!({}))
        .unwrap();
    let got = drain(&mut in_a);
    assert_eq!(revisions(&got), [since + 1, since + 3]);
    assert!(got.iter().all(|e| e.key.namespace == "a"));
    assert_eq!(
        revisions(&drain(&mut all)),
        [since + 1, since + 2, since + 3]
    );
    assert_eq!(revisions(&drain(&mut nodes)), [since + 5]);
    // Replay filters the same way.
    let mut replay_a = store
        .watch("", "configmaps", Some("a"), Some(since))
        .unwrap();
    assert_eq!(revisions(&drain(&mut replay_a)), [since + 1, since + 3]);
}

#[test]
fn no_gap_and_no_duplicate_with_concurrent_writers() {
    let dir = TempDir::new("watch");
    let options = StoreOptions {
        history_events: 100_000,
        history_bytes: 256 << 20,
        watch_queue: 100_000,
        ..StoreOptions::default()
    };
    let store = Store::open_with(dir.path(), options).unwrap();
    let start = store.current_revision();
    // Every acknowledged write, by revision.
    let written: Arc<Mutex<BTreeMap<u64, ObjectKey>>> = Arc::default();
    const WRITERS: usize = 4;
    const WRITES: usize = 60;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            let written = written.clone();
            std::thread::spawn(move || {
                for i in 0..WRITES {
                    let namespace = if (i / 3) % 2 == 0 { "even" } else { "odd" };
                    let key = cm(namespace, &format!("w{w}-{}", i / 3));
                    let stored = match i % 3 {
                        0 => store.create(&key, cm_obj(&key, "c")),
                        1 => store.update(&key, cm_obj(&key, "u"), None),
                        _ => store.delete(&key, None),
                    };
                    let stored = stored.unwrap();
                    written.lock().unwrap().insert(rv(&stored), key);
                }
            })
        })
        .collect();
    // A live consumer on an async runtime, meanwhile.
    let live = {
        let watch = store.watch("", "configmaps", None, Some(start)).unwrap();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            rt.block_on(async move {
                let mut watch = watch;
                let mut seen = Vec::new();
                while seen.len() < WRITERS * WRITES {
                    let event = tokio::time::timeout(Duration::from_secs(30), watch.recv())
                        .await
                        .expect("the live watcher stalled")
                        .expect("the live watch ended");
                    seen.push(event.revision);
                }
                seen
            })
        })
    };
    // Watches started at arbitrary moments, from arbitrary revisions.
    let mut watches = Vec::new();
    while watches.len() < 40 {
        let current = store.current_revision();
        let since = start + (current - start) / 2;
        let namespace = ["even", "odd"][watches.len() % 2];
        let filter = (watches.len() % 3 != 0).then_some(namespace);
        let from = if watches.len() % 4 == 0 {
            None
        } else {
            Some(since)
        };
        let watch = store.watch("", "configmaps", filter, from).unwrap();
        watches.push((filter, from.unwrap_or(current), from.is_some(), watch));
        std::thread::sleep(Duration::from_micros(500));
    }
    for writer in writers {
        writer.join().unwrap();
    }
    let written = written.lock().unwrap().clone();
    assert_eq!(written.len(), WRITERS * WRITES);
    let expected_live: Vec<u64> = written.keys().copied().collect();
    assert_eq!(live.join().unwrap(), expected_live);
    for (filter, after, exact, mut watch) in watches {
        let got = revisions(&drain(&mut watch));
        let expected: Vec<u64> = written
            .iter()
            .filter(|(rev, key)| **rev > after && filter.is_none_or(|ns| key.namespace == ns))
            .map(|(rev, _)| *rev)
            .collect();
        // "From now" watches start at the last published event, which may be a little after
        // or (a write committed but not yet published when `after` was read) a little before
        // `after`: their events are a contiguous tail of what was written around then.
        if exact {
            assert_eq!(got, expected, "filter {filter:?} after {after}");
        } else {
            let around: Vec<u64> = written
                .iter()
                .filter(|(rev, key)| {
                    **rev > after.saturating_sub(WRITERS as u64)
                        && filter.is_none_or(|ns| key.namespace == ns)
                })
                .map(|(rev, _)| *rev)
                .collect();
            assert!(
                around.ends_with(&got) && got.windows(2).all(|w| w[0] < w[1]),
                "filter {filter:?} after {after}: got {got:?}, expected a tail of {around:?}"
            );
        }
    }
}

#[test]
fn too_old_revisions_are_gone() {
    let dir = TempDir::new("watch");
    let options = StoreOptions {
        history_events: 4,
        ..StoreOptions::default()
    };
    let store = Store::open_with(dir.path(), options).unwrap();
    let start = store.current_revision();
    for i in 0..10 {
        let key = cm("default", &format!("o{i}"));
        store.create(&key, cm_obj(&key, "v")).unwrap();
    }
    let oldest = start + 6;
    assert_eq!(store.oldest_watch_revision(), oldest);
    assert_eq!(
        store
            .watch("", "configmaps", None, Some(start + 2))
            .unwrap_err(),
        StoreError::Gone {
            requested: start + 2,
            oldest,
        }
    );
    let mut watch = store.watch("", "configmaps", None, Some(oldest)).unwrap();
    assert_eq!(
        revisions(&drain(&mut watch)),
        (oldest + 1..=start + 10).collect::<Vec<_>>()
    );
}

#[test]
fn after_a_restart_only_the_current_revision_can_be_watched() {
    let dir = TempDir::new("watch");
    let before = {
        let store = Store::open(dir.path()).unwrap();
        for i in 0..3 {
            let key = cm("default", &format!("o{i}"));
            store.create(&key, cm_obj(&key, "v")).unwrap();
        }
        store.current_revision()
    };
    let store = Store::open(dir.path()).unwrap();
    assert!(matches!(
        store.watch("", "configmaps", None, Some(before - 1)),
        Err(StoreError::Gone { .. })
    ));
    let mut watch = store.watch("", "configmaps", None, Some(before)).unwrap();
    let key = cm("default", "new");
    store.create(&key, cm_obj(&key, "v")).unwrap();
    assert_eq!(revisions(&drain(&mut watch)), [before + 1]);
}

#[test]
fn a_watch_from_the_future_starts_there() {
    let dir = TempDir::new("watch");
    let store = Store::open(dir.path()).unwrap();
    let current = store.current_revision();
    let mut watch = store
        .watch("", "configmaps", None, Some(current + 2))
        .unwrap();
    for i in 0..4 {
        let key = cm("default", &format!("o{i}"));
        store.create(&key, cm_obj(&key, "v")).unwrap();
    }
    assert_eq!(revisions(&drain(&mut watch)), [current + 3, current + 4]);
}

#[tokio::test]
async fn a_slow_watcher_is_dropped_without_holding_anyone_up() {
    let dir = TempDir::new("watch");
    let options = StoreOptions {
        watch_queue: 8,
        ..StoreOptions::default()
    };
    let store = Store::open_with(dir.path(), options).unwrap();
    let mut slow = store.watch("", "configmaps", None, None).unwrap();
    let mut fast = store.watch("", "configmaps", None, None).unwrap();
    let mut fast_seen = 0;
    for i in 0..100 {
        let key = cm("default", &format!("o{i}"));
        store.create(&key, cm_obj(&key, "v")).unwrap();
        fast_seen += drain(&mut fast).len();
    }
    assert_eq!(fast_seen, 100);
    assert!(slow.overflowed());
    assert!(!fast.overflowed());
    assert_eq!(store.hub().watcher_count(), 1);
    // The slow watcher gets what was queued (a prefix, in order), then the end.
    let mut got = Vec::new();
    while let Some(event) = slow.recv().await {
        got.push(event.revision);
    }
    assert_eq!(got.len(), 8);
    assert!(got.windows(2).all(|w| w[1] == w[0] + 1));
    assert_eq!(slow.bookmark_revision(), None);
}

#[test]
fn history_memory_stays_within_its_bounds() {
    let dir = TempDir::new("watch");
    let options = StoreOptions {
        history_events: 1000,
        history_bytes: 64 << 10,
        ..StoreOptions::default()
    };
    let store = Store::open_with(dir.path(), options).unwrap();
    let start = store.current_revision();
    let big = "x".repeat(8 << 10);
    for i in 0..60 {
        let key = cm("default", &format!("o{i}"));
        store.create(&key, cm_obj(&key, &big)).unwrap();
        let (events, bytes) = store.hub().history_usage();
        assert!(bytes <= 64 << 10, "{bytes} bytes in {events} events");
    }
    let (events, _) = store.hub().history_usage();
    assert!((1..10).contains(&events), "{events} events kept");
    assert!(matches!(
        store.watch("", "configmaps", None, Some(start)),
        Err(StoreError::Gone { .. })
    ));
}

#[tokio::test]
async fn list_and_watch_meet_exactly() {
    let dir = TempDir::new("watch");
    let store = Store::open(dir.path()).unwrap();
    for i in 0..3 {
        let key = cm("default", &format!("o{i}"));
        store.create(&key, cm_obj(&key, "v")).unwrap();
    }
    let (items, revision, mut watch) = store.list_and_watch("", "configmaps", None).unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(revision, store.current_revision());
    assert_eq!(watch.bookmark_revision(), Some(revision));
    let key = cm("default", "o0");
    store.delete(&key, None).unwrap();
    assert_eq!(watch.bookmark_revision(), None, "an event is waiting");
    let event = watch.recv().await.unwrap();
    assert_eq!(
        (event.kind, event.revision),
        (EventKind::Deleted, revision + 1)
    );
    assert_eq!(watch.bookmark_revision(), Some(revision + 1));
    // Writes elsewhere move the bookmark too.
    store
        .create(&ObjectKey::cluster("", "nodes", "n"), json!({}))
        .unwrap();
    assert_eq!(watch.bookmark_revision(), Some(revision + 2));
}

#[test]
fn dropping_a_watch_unsubscribes_it() {
    let dir = TempDir::new("watch");
    let store = Store::open(dir.path()).unwrap();
    let a = store.watch("", "configmaps", None, None).unwrap();
    let b = store.watch("", "pods", Some("x"), None).unwrap();
    assert_eq!(store.hub().watcher_count(), 2);
    drop(a);
    drop(b);
    assert_eq!(store.hub().watcher_count(), 0);
}

#[tokio::test]
async fn a_watcher_that_stops_reading_pins_a_bounded_number_of_bytes() {
    let dir = TempDir::new("watch");
    let options = StoreOptions {
        watch_queue: 10_000,
        watch_queue_bytes: 256 << 10,
        ..StoreOptions::default()
    };
    let store = Store::open_with(dir.path(), options).unwrap();
    let mut stuck = store.watch("", "configmaps", None, None).unwrap();
    let ended = stuck.ended();
    let mut reader = store.watch("", "configmaps", None, None).unwrap();
    let big = "x".repeat(16 << 10);
    let mut read = 0;
    for i in 0..200 {
        let key = cm("default", &format!("o{i}"));
        store.create(&key, cm_obj(&key, &big)).unwrap();
        read += drain(&mut reader).len();
    }
    // The reader kept up and is still there; the stuck one was dropped by bytes, long before
    // its event bound, and told so without being polled.
    assert_eq!(read, 200);
    assert_eq!(store.hub().watcher_count(), 1);
    assert!(stuck.overflowed() && !reader.overflowed());
    tokio::time::timeout(Duration::from_secs(5), ended.wait())
        .await
        .expect("the end is signalled");
    let queued = drain(&mut stuck);
    assert!(
        (1..20).contains(&queued.len()),
        "{} events queued",
        queued.len()
    );
    assert!(
        queued
            .windows(2)
            .all(|w| w[1].revision == w[0].revision + 1)
    );
    assert!(stuck.recv().await.is_none());
}

#[tokio::test]
async fn one_event_bigger_than_the_byte_bound_still_reaches_a_watcher_that_keeps_up() {
    let dir = TempDir::new("watch");
    let options = StoreOptions {
        watch_queue_bytes: 1 << 10,
        ..StoreOptions::default()
    };
    let store = Store::open_with(dir.path(), options).unwrap();
    let mut watch = store.watch("", "configmaps", None, None).unwrap();
    for i in 0..3 {
        let key = cm("default", &format!("o{i}"));
        store
            .create(&key, cm_obj(&key, &"y".repeat(4 << 10)))
            .unwrap();
        assert_eq!(drain(&mut watch).len(), 1);
    }
    assert!(!watch.overflowed());
}

#[tokio::test]
async fn the_end_of_a_reopened_store_is_signalled_to_its_watchers() {
    let dir = TempDir::new("watch");
    let store = Store::open(dir.path()).unwrap();
    let watch = store.watch("", "configmaps", None, None).unwrap();
    let ended = watch.ended();
    let waiter = tokio::spawn(async move { ended.wait().await });
    tokio::task::yield_now().await;
    store.hub().reset(store.current_revision());
    tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("woken")
        .unwrap();
    assert!(!watch.overflowed());
}
