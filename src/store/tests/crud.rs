//! Create, get, update, delete, their preconditions, and the revision counter.

use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use super::{TempDir, cm, cm_obj, rv};
use crate::store::{ObjectKey, STORE_FILE, Store, StoreError};

#[test]
fn create_then_get_returns_the_stored_object() {
    let dir = TempDir::new("crud");
    let store = Store::open(dir.path()).unwrap();
    let start = store.current_revision();
    let key = cm("default", "a");
    let created = store.create(&key, cm_obj(&key, "1")).unwrap();
    assert_eq!(rv(&created), start + 1);
    assert_eq!(store.current_revision(), start + 1);
    assert_eq!(store.get(&key).unwrap(), Some(created.clone()));
    assert_eq!(created["data"]["value"], "1");
    assert_eq!(
        store.create(&key, cm_obj(&key, "2")),
        Err(StoreError::AlreadyExists)
    );
    assert_eq!(store.get(&cm("other", "a")).unwrap(), None);
    assert_eq!(
        store.current_revision(),
        start + 1,
        "a refused write bumps nothing"
    );
}

#[test]
fn a_new_store_never_reports_revision_zero() {
    let dir = TempDir::new("crud");
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.current_revision(), 1);
    assert_eq!(store.list("", "pods", None).unwrap().1, 1);
}

#[test]
fn update_checks_existence_and_the_expected_revision() {
    let dir = TempDir::new("crud");
    let store = Store::open(dir.path()).unwrap();
    let key = cm("default", "a");
    assert_eq!(
        store.update(&key, cm_obj(&key, "x"), None),
        Err(StoreError::NotFound)
    );
    let v1 = rv(&store.create(&key, cm_obj(&key, "1")).unwrap());
    let v2 = rv(&store.update(&key, cm_obj(&key, "2"), Some(v1)).unwrap());
    assert!(v2 > v1);
    assert_eq!(
        store.update(&key, cm_obj(&key, "stale"), Some(v1)),
        Err(StoreError::Conflict { current: v2 })
    );
    let before = store.current_revision();
    let unconditional = store.update(&key, cm_obj(&key, "3"), None).unwrap();
    assert_eq!(rv(&unconditional), before + 1);
    assert_eq!(store.get(&key).unwrap().unwrap()["data"]["value"], "3");
}

#[test]
fn the_store_overwrites_whatever_resource_version_it_is_given() {
    let dir = TempDir::new("crud");
    let store = Store::open(dir.path()).unwrap();
    let key = cm("default", "a");
    let mut obj = cm_obj(&key, "1");
    obj["metadata"]["resourceVersion"] = json!("999");
    let stored = store.create(&key, obj).unwrap();
    assert_eq!(rv(&stored), store.current_revision());
    let bare = store
        .create(&cm("default", "b"), json!({"kind": "ConfigMap"}))
        .unwrap();
    assert_eq!(rv(&bare), store.current_revision());
}

#[test]
fn delete_returns_the_last_state_at_the_deletion_revision() {
    let dir = TempDir::new("crud");
    let store = Store::open(dir.path()).unwrap();
    let key = cm("default", "a");
    assert_eq!(store.delete(&key, None), Err(StoreError::NotFound));
    let v1 = rv(&store.create(&key, cm_obj(&key, "1")).unwrap());
    assert_eq!(
        store.delete(&key, Some(v1 + 100)),
        Err(StoreError::Conflict { current: v1 })
    );
    let last = store.delete(&key, Some(v1)).unwrap();
    assert_eq!(rv(&last), v1 + 1);
    assert_eq!(last["data"]["value"], "1");
    assert_eq!(store.get(&key).unwrap(), None);
    // The name is free again.
    store.create(&key, cm_obj(&key, "2")).unwrap();
}

#[test]
fn what_cannot_be_stored_is_refused_before_writing() {
    let dir = TempDir::new("crud");
    let store = Store::open(dir.path()).unwrap();
    let before = store.current_revision();
    let key = cm("default", "a");
    assert!(matches!(
        store.create(&key, json!([1, 2])),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.create(&key, json!({"metadata": "nope"})),
        Err(StoreError::Invalid(_))
    ));
    let bad = ObjectKey::new("", "configmaps", "a/b", "x");
    assert!(matches!(
        store.create(&bad, json!({})),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(store.get(&bad), Err(StoreError::Invalid(_))));
    assert_eq!(store.current_revision(), before);
}

#[test]
fn revisions_keep_growing_across_reopen() {
    let dir = TempDir::new("crud");
    let last = {
        let store = Store::open(dir.path()).unwrap();
        for i in 0..5 {
            let key = cm("default", &format!("o{i}"));
            store.create(&key, cm_obj(&key, "v")).unwrap();
        }
        store.delete(&cm("default", "o4"), None).unwrap();
        store.current_revision()
    };
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.current_revision(), last);
    let key = cm("default", "after");
    assert_eq!(
        rv(&store.create(&key, cm_obj(&key, "v")).unwrap()),
        last + 1
    );
    assert_eq!(store.get(&cm("default", "o4")).unwrap(), None);
    assert_eq!(store.list("", "configmaps", None).unwrap().0.len(), 5);
}

#[test]
fn only_one_process_opens_the_store_and_its_file_is_private() {
    let dir = TempDir::new("crud");
    let store = Store::open(dir.path()).unwrap();
    assert!(matches!(
        Store::open(dir.path()),
        Err(StoreError::Storage(_))
    ));
    let mode = std::fs::metadata(dir.path().join(STORE_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    drop(store);
    Store::open(dir.path()).unwrap();
}

#[test]
fn error_statuses_match_the_api() {
    assert_eq!(StoreError::NotFound.http_status(), 404);
    assert_eq!(StoreError::AlreadyExists.http_status(), 409);
    assert_eq!(StoreError::Conflict { current: 1 }.http_status(), 409);
    assert_eq!(StoreError::StorageFull(String::new()).http_status(), 507);
    assert_eq!(StoreError::Storage(String::new()).http_status(), 500);
}

#[test]
fn stores_and_watches_cross_threads_and_tasks() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Store>();
    send_sync::<crate::store::Event>();
    send::<crate::store::Watch>();
}
