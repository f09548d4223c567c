//! Measurements, run on demand:
//! `cargo test --lib store::tests::measure -- --ignored --nocapture`.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{TempDir, cm};
use crate::store::{STORE_FILE, Store, StoreOptions};

fn small(name: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "demo"},
                     "uid": "0b5c7a52-6f0e-4a39-9a7e-2d4f7d2b6c11",
                     "creationTimestamp": "2025-01-01T00:00:00Z"},
        "data": {"key": "value", "other": "some longer value of about forty bytes"},
    })
}

/// The private (anonymous) resident memory of this process, in KiB: the
/// heap, without the pages of the (debug) test binary's code that running
/// new code maps in.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status
                .lines()
                .find(|l| l.starts_with("RssAnon:"))?
                .to_owned();
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

/// Bytes this process handed to `write` calls so far (`wchar` in /proc/self/io).
fn written_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|io| {
            let line = io.lines().find(|l| l.starts_with("wchar:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() - 1) * p / 100]
}

fn measure(two_phase_commit: bool) {
    let dir = TempDir::new("measure");
    let options = StoreOptions {
        two_phase_commit,
        ..StoreOptions::default()
    };
    let rss_before = rss_kib();
    let store = Store::open_with(dir.path(), options.clone()).unwrap();
    let empty = std::fs::metadata(dir.path().join(STORE_FILE))
        .unwrap()
        .len();
    eprintln!(
        "empty store: file {} KiB, heap +{} KiB",
        empty / 1024,
        rss_kib().saturating_sub(rss_before)
    );
    let mut latencies = Vec::new();
    let written_before = written_bytes();
    for i in 0..1000 {
        let key = cm("default", &format!("cm-{i:04}"));
        let obj = small(&key.name);
        let started = Instant::now();
        store.create(&key, obj).unwrap();
        latencies.push(started.elapsed());
    }
    let per_write = (written_bytes() - written_before) / 1000;
    let json_bytes = serde_json::to_vec(&small("cm-0000")).unwrap().len();
    let size = std::fs::metadata(dir.path().join(STORE_FILE))
        .unwrap()
        .len();
    latencies.sort();
    eprintln!(
        "two-phase {two_phase_commit}: create latency p50 {:?} p90 {:?} p99 {:?} max {:?}; \
         file {} KiB for 1000 objects of {json_bytes} JSON bytes; {per_write} bytes written per write",
        percentile(&latencies, 50),
        percentile(&latencies, 90),
        percentile(&latencies, 99),
        latencies.last().unwrap(),
        size / 1024,
    );
    let (events, history_bytes) = store.hub().history_usage();
    eprintln!(
        "after 1000 writes: heap +{} KiB; history {events} events, ~{} KiB estimated",
        rss_kib().saturating_sub(rss_before),
        history_bytes / 1024
    );
    let started = Instant::now();
    let (items, _) = store.list("", "configmaps", None).unwrap();
    eprintln!("list of {} objects: {:?}", items.len(), started.elapsed());
    drop(items);
    let started = Instant::now();
    for i in 0..1000 {
        store.get(&cm("default", &format!("cm-{i:04}"))).unwrap();
    }
    eprintln!("1000 gets: {:?}", started.elapsed());
    drop(store);
    let started = Instant::now();
    let store = Store::open_with(dir.path(), options).unwrap();
    eprintln!("reopen: {:?}", started.elapsed());
    drop(store);
}

#[test]
#[ignore = "a measurement; run with --ignored --nocapture"]
fn write_latency_and_file_size() {
    measure(false);
    measure(true);
}
