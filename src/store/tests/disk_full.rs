//! A full disk: writes fail with a 507-worthy error, nothing acknowledged
//! is lost, the store stays readable and recovers once there is room.
//!
//! A child process (this test binary on [`disk_full_child`]) runs under a
//! file size limit (`ulimit -f`, with SIGXFSZ ignored so writes fail with
//! EFBIG instead of killing it): the same failure path as ENOSPC, without
//! filling a real disk.

use std::process::Command;

use serde_json::json;

use super::{TempDir, cm, rv};
use crate::store::Store;

const DIR_VAR: &str = "K2D_STORE_FULL_CHILD_DIR";
const NAMESPACE: &str = "full";
/// The file size limit, in 512-byte blocks (4 MiB).
const LIMIT_BLOCKS: u64 = 8192;

fn payload(n: u64) -> serde_json::Value {
    json!({"n": n, "pad": "f".repeat(4096)})
}

/// The child's side: write until the limit is hit, then read everything.
#[test]
fn disk_full_child() {
    let Ok(dir) = std::env::var(DIR_VAR) else {
        return;
    };
    let store = Store::open(std::path::Path::new(&dir)).unwrap();
    let mut acked = 0;
    for n in 0u64..100_000 {
        let key = cm(NAMESPACE, &format!("o{n}"));
        let obj = json!({"metadata": {"name": key.name}, "data": payload(n)});
        match store.create(&key, obj) {
            Ok(stored) => {
                acked += 1;
                println!("ACK {} {}", key.name, rv(&stored));
            }
            Err(e) => {
                println!("FULL {} {e}", e.http_status());
                break;
            }
        }
    }
    assert!(store.recoveries() >= 1, "the database was not reopened");
    let revision = store.current_revision();
    let (items, listed_at) = store.list("", "configmaps", Some(NAMESPACE)).unwrap();
    println!("LISTED {} {listed_at} {revision}", items.len());
    assert_eq!(items.len(), acked);
    let first = store.get(&cm(NAMESPACE, "o0")).unwrap().unwrap();
    assert_eq!(first["data"], payload(0));
    // Another big write fails the same way, without damage.
    let key = cm(NAMESPACE, "again");
    let again = store.create(
        &key,
        json!({"data": payload(0), "more": "g".repeat(1 << 20)}),
    );
    println!("AGAIN {}", again.map_or_else(|e| e.http_status(), |_| 200));
    assert_eq!(
        store
            .list("", "configmaps", Some(NAMESPACE))
            .unwrap()
            .0
            .len(),
        acked
    );
    println!("DONE");
}

#[test]
fn a_full_disk_refuses_writes_and_loses_nothing() {
    let dir = TempDir::new("full");
    let exe = std::env::current_exe().unwrap();
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {LIMIT_BLOCKS}; exec \"$0\" \"$@\""
        ))
        .arg(&exe)
        .args([
            "store::tests::disk_full::disk_full_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DIR_VAR, dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let acked: Vec<(String, u64)> = stdout
        .lines()
        // libtest's "test ... " may precede the first one on its line.
        .filter_map(|l| l.find("ACK ").map(|at| &l[at + 4..]))
        .map(|l| {
            let (name, rev) = l.split_once(' ').unwrap();
            (name.to_owned(), rev.parse().unwrap())
        })
        .collect();
    assert!(acked.len() > 10, "only {} writes fit", acked.len());
    let full = stdout.lines().find(|l| l.contains("FULL ")).unwrap();
    assert!(full.contains("FULL 507 "), "{full}");
    assert!(stdout.contains("DONE"), "{stdout}");

    // With room again, everything acknowledged is there and writes work.
    let store = Store::open(dir.path()).unwrap();
    let last = acked.last().unwrap().1;
    assert!(store.current_revision() >= last);
    assert_eq!(
        store
            .list("", "configmaps", Some(NAMESPACE))
            .unwrap()
            .0
            .len(),
        acked.len()
    );
    for (name, rev) in &acked {
        let obj = store.get(&cm(NAMESPACE, name)).unwrap().unwrap();
        assert_eq!(rv(&obj), *rev);
        let n: u64 = name[1..].parse().unwrap();
        assert!(obj["data"] == payload(n), "{name} has lost its content");
    }
    let key = cm(NAMESPACE, "after");
    let stored = store.create(&key, json!({"data": {}})).unwrap();
    assert!(rv(&stored) > last);
    eprintln!(
        "{} writes of 4 KiB fitted under a {} KiB file size limit",
        acked.len(),
        LIMIT_BLOCKS / 2
    );
}
