//! Idleness: without calls, and during reads and watches, the store never
//! touches its file.

use std::time::{Duration, SystemTime};

use super::{TempDir, cm, cm_obj};
use crate::store::{STORE_FILE, Store};

fn fingerprint(path: &std::path::Path) -> (u64, SystemTime, Vec<u8>) {
    let meta = std::fs::metadata(path).unwrap();
    (
        meta.len(),
        meta.modified().unwrap(),
        std::fs::read(path).unwrap(),
    )
}

#[test]
fn nothing_is_written_while_idle_or_reading() {
    let dir = TempDir::new("idle");
    let store = Store::open(dir.path()).unwrap();
    for i in 0..20 {
        let key = cm("default", &format!("o{i}"));
        store.create(&key, cm_obj(&key, "v")).unwrap();
    }
    let path = dir.path().join(STORE_FILE);
    let before = fingerprint(&path);
    std::thread::sleep(Duration::from_millis(1200));
    assert!(fingerprint(&path) == before, "the file changed while idle");
    // Reads, lists, watches and refused writes write nothing either.
    let key = cm("default", "o1");
    store.get(&key).unwrap();
    store.list("", "configmaps", None).unwrap();
    store.list_from("", "configmaps", None, None, 5).unwrap();
    let _watch = store.watch("", "configmaps", None, None).unwrap();
    let _both = store.list_and_watch("", "configmaps", None).unwrap();
    assert!(store.create(&key, cm_obj(&key, "dup")).is_err());
    assert!(store.update(&key, cm_obj(&key, "x"), Some(1)).is_err());
    std::thread::sleep(Duration::from_millis(300));
    assert!(fingerprint(&path) == before, "reads changed the file");
}
