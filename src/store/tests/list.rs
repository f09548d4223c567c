//! Lists: selection by resource and namespace, order, snapshots, pagination.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;

use super::{TempDir, cm, cm_obj, name, rv};
use crate::store::{ObjectKey, Store, StoreError};

fn names(items: &[serde_json::Value]) -> Vec<String> {
    items
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["metadata"]["namespace"].as_str().unwrap_or(""),
                name(o)
            )
        })
        .collect()
}

#[test]
fn lists_select_one_resource_and_namespace_in_name_order() {
    let dir = TempDir::new("list");
    let store = Store::open(dir.path()).unwrap();
    for (ns, n) in [
        ("b", "x"),
        ("a", "z"),
        ("a-b", "y"),
        ("a", "y"),
        ("a", "y-1"),
    ] {
        let key = cm(ns, n);
        store.create(&key, cm_obj(&key, "v")).unwrap();
    }
    // Neighbours that must not leak into the lists.
    for key in [
        ObjectKey::new("", "configmapsx", "a", "q"),
        ObjectKey::new("x", "configmaps", "a", "q"),
        ObjectKey::new("", "secrets", "a", "q"),
    ] {
        store
            .create(&key, json!({"metadata": {"name": "q"}}))
            .unwrap();
    }
    let (all, revision) = store.list("", "configmaps", None).unwrap();
    assert_eq!(revision, store.current_revision());
    assert_eq!(names(&all), ["a/y", "a/y-1", "a/z", "a-b/y", "b/x"]);
    let (in_a, _) = store.list("", "configmaps", Some("a")).unwrap();
    assert_eq!(names(&in_a), ["a/y", "a/y-1", "a/z"]);
    assert!(
        store
            .list("", "configmaps", Some("c"))
            .unwrap()
            .0
            .is_empty()
    );
    assert!(store.list("", "pods", None).unwrap().0.is_empty());
}

#[test]
fn cluster_scoped_objects_list_and_page() {
    let dir = TempDir::new("list");
    let store = Store::open(dir.path()).unwrap();
    for n in ["n3", "n1", "n2"] {
        let key = ObjectKey::cluster("", "nodes", n);
        store
            .create(&key, json!({"metadata": {"name": n}}))
            .unwrap();
    }
    let page = store.list_from("", "nodes", None, None, 2).unwrap();
    assert_eq!(names(&page.items), ["/n1", "/n2"]);
    assert_eq!(page.next.as_deref(), Some("/n2"));
    let rest = store
        .list_from("", "nodes", Some(""), page.next.as_deref(), 2)
        .unwrap();
    assert_eq!(names(&rest.items), ["/n3"]);
    assert!(!rest.more && rest.next.is_none());
}

#[test]
fn pages_cover_the_list_exactly_once() {
    let dir = TempDir::new("list");
    let store = Store::open(dir.path()).unwrap();
    for i in 0..25 {
        let key = cm(["ns1", "ns2", "ns3"][i % 3], &format!("o{i:02}"));
        store.create(&key, cm_obj(&key, "v")).unwrap();
    }
    for namespace in [None, Some("ns2")] {
        let (full, _) = store.list("", "configmaps", namespace).unwrap();
        let mut paged = Vec::new();
        let mut start: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = store
                .list_from("", "configmaps", namespace, start.as_deref(), 4)
                .unwrap();
            pages += 1;
            assert!(page.items.len() <= 4);
            assert_eq!(page.more, page.next.is_some());
            paged.extend(page.items);
            match page.next {
                Some(next) => start = Some(next),
                None => break,
            }
        }
        assert_eq!(paged, full);
        assert_eq!(pages, full.len().div_ceil(4));
    }
    // An exact fit reports no further page.
    let exact = store.list_from("", "configmaps", None, None, 25).unwrap();
    assert!(!exact.more);
    assert!(matches!(
        store.list_from("", "configmaps", Some("ns1"), Some("ns2/o01"), 4),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.list_from("", "configmaps", None, Some("garbage"), 4),
        Err(StoreError::Invalid(_))
    ));
}

#[test]
fn a_list_is_one_snapshot_even_while_writes_go_on() {
    let dir = TempDir::new("list");
    let store = Store::open(dir.path()).unwrap();
    let base = store.current_revision();
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let store = store.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            for i in 0..150 {
                let key = cm("default", &format!("o{i:03}"));
                store.create(&key, cm_obj(&key, "v")).unwrap();
            }
            done.store(true, Ordering::Release);
        })
    };
    let mut lists = 0;
    while !done.load(Ordering::Acquire) {
        // Only creates in this resource: a snapshot at revision R holds exactly
        // the objects with revisions base+1 ..= R.
        let (items, revision) = store.list("", "configmaps", None).unwrap();
        assert_eq!(items.len() as u64, revision - base);
        if let Some(max) = items.iter().map(rv).max() {
            assert_eq!(max, revision);
        }
        lists += 1;
    }
    writer.join().unwrap();
    assert!(lists > 1);
}

#[test]
fn a_scan_decodes_every_namespace_into_the_projection_asked_for() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Named {
        metadata: NamedMeta,
    }
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct NamedMeta {
        name: String,
        #[serde(rename = "resourceVersion")]
        resource_version: String,
    }
    let dir = TempDir::new("scan");
    let store = Store::open(dir.path()).unwrap();
    let mut expected = Vec::new();
    for (ns, n) in [("b", "x"), ("a", "y")] {
        let key = cm(ns, n);
        let stored = store.create(&key, cm_obj(&key, "v")).unwrap();
        expected.push((n.to_string(), rv(&stored).to_string()));
    }
    store
        .create(
            &ObjectKey::new("", "secrets", "a", "s"),
            json!({"metadata": {"name": "s"}}),
        )
        .unwrap();
    let scanned: Vec<Named> = store.scan("", "configmaps").unwrap();
    let got: Vec<(String, String)> = scanned
        .into_iter()
        .map(|o| (o.metadata.name, o.metadata.resource_version))
        .collect();
    expected.reverse(); // namespace order: a before b
    assert_eq!(got, expected);
    // A projection the stored objects do not fit is an error, not a silent skip.
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Wrong {
        spec: String,
    }
    assert!(store.scan::<Wrong>("", "configmaps").is_err());
}
