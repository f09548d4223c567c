//! Crash safety: a child process writes in a loop and is SIGKILLed at a
//! random moment; the store must reopen with every acknowledged write.
//!
//! The child is this test binary, re-run on [`crash_child_writer`] with
//! [`DIR_VAR`] set; without it that test does nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Rng, TempDir, cm, name, rv};
use crate::store::Store;

const DIR_VAR: &str = "K2D_STORE_CRASH_CHILD_DIR";
const ROUND_VAR: &str = "K2D_STORE_CRASH_CHILD_ROUND";
const NAMESPACE: &str = "crash";

/// What the child acknowledged: an operation, the object's name, the
/// revision, and the data written (`None` for a delete).
#[derive(Debug)]
struct Ack {
    name: String,
    revision: u64,
    data: Option<Value>,
}

/// The child's side: create, update and delete in a loop, printing each
/// acknowledged write, until killed.
#[test]
fn crash_child_writer() {
    let Ok(dir) = std::env::var(DIR_VAR) else {
        return;
    };
    let round: u64 = std::env::var(ROUND_VAR).unwrap().parse().unwrap();
    let store = Store::open(std::path::Path::new(&dir)).unwrap();
    let mut out = std::io::stdout().lock();
    writeln!(out, "OPENED {}", store.current_revision()).unwrap();
    let started = Instant::now();
    for n in 0u64.. {
        if started.elapsed() > Duration::from_secs(20) {
            break;
        }
        let key = cm(NAMESPACE, &format!("r{round}-{n}"));
        let data = json!({"round": round, "n": n, "pad": "p".repeat((n % 40) as usize * 25)});
        let obj = json!({"metadata": {"name": key.name, "namespace": NAMESPACE}, "data": data});
        let stored = store.create(&key, obj).unwrap();
        writeln!(out, "ACK {} {} {}", key.name, rv(&stored), data).unwrap();
        out.flush().unwrap();
        if n % 3 == 2 {
            let key = cm(NAMESPACE, &format!("r{round}-{}", n - 1));
            let data = json!({"round": round, "n": n - 1, "updated": true});
            let obj = json!({"metadata": {"name": key.name, "namespace": NAMESPACE}, "data": data});
            let stored = store.update(&key, obj, None).unwrap();
            writeln!(out, "ACK {} {} {}", key.name, rv(&stored), data).unwrap();
            out.flush().unwrap();
        }
        if n % 5 == 4 {
            let key = cm(NAMESPACE, &format!("r{round}-{}", n - 2));
            let last = store.delete(&key, None).unwrap();
            writeln!(out, "ACK {} {} -", key.name, rv(&last)).unwrap();
            out.flush().unwrap();
        }
    }
}

fn parse_ack(line: &str) -> Option<Ack> {
    let rest = line.strip_prefix("ACK ")?;
    let mut parts = rest.splitn(3, ' ');
    let name = parts.next()?.to_owned();
    let revision = parts.next()?.parse().ok()?;
    let data = match parts.next()? {
        "-" => None,
        json => Some(serde_json::from_str(json).ok()?),
    };
    Some(Ack {
        name,
        revision,
        data,
    })
}

/// The store's content: name to (revision, data).
fn contents(store: &Store) -> BTreeMap<String, (u64, Value)> {
    let (items, revision) = store.list("", "configmaps", Some(NAMESPACE)).unwrap();
    assert!(revision >= store.current_revision());
    items
        .iter()
        .map(|o| (name(o).to_owned(), (rv(o), o["data"].clone())))
        .collect()
}

/// Kills per run: 10, or `K2D_STORE_CRASH_ROUNDS` (the long manual variant, e.g.
/// `K2D_STORE_CRASH_ROUNDS=500 cargo test --lib store::tests::crash -- --nocapture`).
fn rounds() -> u64 {
    std::env::var("K2D_STORE_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}

#[test]
fn every_acknowledged_write_survives_sigkill() {
    let kills = rounds();
    let dir = TempDir::new("crash");
    let exe = std::env::current_exe().unwrap();
    let mut rng = Rng::from_clock();
    // What the store held after the previous round.
    let mut model: BTreeMap<String, (u64, Value)> = BTreeMap::new();
    let mut last_revision = Store::open(dir.path()).unwrap().current_revision();
    let mut total_acks = 0;
    let started = Instant::now();
    for round in 0..kills {
        let mut child = Command::new(&exe)
            .args([
                "store::tests::crash::crash_child_writer",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(DIR_VAR, dir.path())
            .env(ROUND_VAR, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut lines = Vec::new();
        // Most rounds kill mid-write; some kill while the store opens.
        if round % 4 != 3 {
            loop {
                let line = rx.recv_timeout(Duration::from_secs(20)).unwrap();
                // libtest's "test ... " may precede it on the same line.
                let opened = line.contains("OPENED ");
                lines.push(line);
                if opened {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(20 + rng.below(180)));
        } else {
            std::thread::sleep(Duration::from_millis(rng.below(15)));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        lines.extend(rx.try_iter());

        let acks: Vec<Ack> = lines.iter().filter_map(|l| parse_ack(l)).collect();
        total_acks += acks.len();
        for ack in &acks {
            assert!(
                ack.revision > last_revision,
                "round {round}: revision {} after {last_revision}",
                ack.revision
            );
            last_revision = ack.revision;
            match &ack.data {
                Some(data) => model.insert(ack.name.clone(), (ack.revision, data.clone())),
                None => model.remove(&ack.name),
            };
        }

        let store = Store::open(dir.path())
            .unwrap_or_else(|e| panic!("round {round}: the store does not reopen: {e}"));
        let current = store.current_revision();
        assert!(current >= last_revision, "round {round}: counter went back");
        assert!(
            current <= last_revision + 1,
            "round {round}: {current} is more than one unacknowledged write past {last_revision}"
        );
        let found = contents(&store);
        // At most one write (the one the kill cut before its acknowledgement)
        // may differ from what was acknowledged, and only with revision `current`.
        let differing: BTreeSet<&String> = model
            .keys()
            .chain(found.keys())
            .filter(|name| model.get(*name) != found.get(*name))
            .collect();
        for name in &differing {
            assert_eq!(current, last_revision + 1, "round {round}: {name} differs");
            let unacked = found.get(*name).is_none_or(|(rev, _)| *rev == current);
            assert!(
                unacked,
                "round {round}: {name} differs: {:?}",
                found.get(*name)
            );
        }
        assert!(differing.len() <= 1, "round {round}: {differing:?}");
        for (name, (rev, _)) in &found {
            assert!(*rev <= current, "{name} at {rev} > {current}");
            let key = cm(NAMESPACE, name);
            assert_eq!(rv(&store.get(&key).unwrap().unwrap()), *rev);
        }
        model = found;
        last_revision = current;
    }
    assert!(total_acks > 0, "the children acknowledged nothing");
    eprintln!(
        "{kills} kills, {total_acks} acknowledged writes, {} objects, in {:?}",
        model.len(),
        started.elapsed()
    );
}
