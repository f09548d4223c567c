//! Writes that are not applies: create, PUT, patches, subresources.

use serde_json::{Value, json};

use super::*;
use crate::api::apply::{apply, record_update};

fn secret(data: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "sh.helm.release.v1.demo.v1", "namespace": "default", "labels": {"owner": "helm", "status": "pending-install"}},
        "data": {"release": data}, "type": "helm.sh/release.v1"
    })
}

fn secret_schema() -> Option<usize> {
    crate::generated::schema_index("io.k8s.api.core.v1.Secret")
}

#[test]
fn create_owns_everything_the_object_sets() {
    let created = record_update(
        None,
        &secret("a"),
        "Helm",
        "Update",
        None,
        secret_schema(),
        T1,
    );
    let e = entry(&created, "Helm", "Update");
    assert_eq!(e["apiVersion"], "v1");
    assert_eq!(e["time"], T1);
    assert!(e.get("subresource").is_none());
    assert_eq!(
        fields(e),
        r#"{"f:data":{".":{},"f:release":{}},"f:metadata":{"f:labels":{".":{},"f:owner":{},"f:status":{}}},"f:type":{}}"#
    );
}

#[test]
fn a_put_without_managed_fields_keeps_them_and_takes_what_it_changed() {
    let created = record_update(
        None,
        &secret("a"),
        "Helm",
        "Update",
        None,
        secret_schema(),
        T1,
    );
    let mut put = secret("b");
    put["metadata"]["labels"]["status"] = json!("deployed");
    let updated = record_update(
        Some(&created),
        &put,
        "helm-other",
        "Update",
        None,
        secret_schema(),
        T2,
    );
    assert_eq!(
        fields(entry(&updated, "helm-other", "Update")),
        r#"{"f:data":{"f:release":{}},"f:metadata":{"f:labels":{"f:status":{}}}}"#
    );
    assert_eq!(
        fields(entry(&updated, "Helm", "Update")),
        r#"{"f:data":{},"f:metadata":{"f:labels":{".":{},"f:owner":{}}},"f:type":{}}"#
    );
}

#[test]
fn a_write_that_changes_nothing_leaves_managed_fields_alone() {
    let created = record_update(
        None,
        &secret("a"),
        "Helm",
        "Update",
        None,
        secret_schema(),
        T1,
    );
    let same = record_update(
        Some(&created),
        &secret("a"),
        "Helm",
        "Update",
        None,
        secret_schema(),
        T2,
    );
    assert_eq!(same, created);
    let other = record_update(
        Some(&created),
        &secret("a"),
        "x",
        "Update",
        None,
        secret_schema(),
        T2,
    );
    assert_eq!(other, created, "no entry for a writer that changed nothing");
}

#[test]
fn removed_fields_are_nobody_s() {
    let created = record_update(
        None,
        &secret("a"),
        "Helm",
        "Update",
        None,
        secret_schema(),
        T1,
    );
    let mut new = secret("a");
    new["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("owner");
    let updated = record_update(
        Some(&created),
        &new,
        "kubectl-label",
        "Update",
        None,
        secret_schema(),
        T2,
    );
    assert!(try_entry(&updated, "kubectl-label", "Update").is_none());
    assert!(!fields(entry(&updated, "Helm", "Update")).contains("f:owner"));
}

#[test]
fn managed_fields_sent_by_the_client_are_taken_and_reset_clears_them() {
    let created = record_update(
        None,
        &secret("a"),
        "Helm",
        "Update",
        None,
        secret_schema(),
        T1,
    );
    let mut moved = created.clone();
    moved["metadata"]["managedFields"][0]["manager"] = json!("renamed");
    let updated = record_update(
        Some(&created),
        &moved,
        "kubectl",
        "Update",
        None,
        secret_schema(),
        T2,
    );
    assert_eq!(
        writers(&updated),
        [("renamed".into(), "Update".into(), "".into())]
    );

    let mut reset = created.clone();
    reset["metadata"]["managedFields"] = json!([{}]);
    let cleared = record_update(
        Some(&created),
        &reset,
        "kubectl",
        "Update",
        None,
        secret_schema(),
        T2,
    );
    assert!(cleared["metadata"].get("managedFields").is_none());

    let mut changed = cleared.clone();
    changed["data"]["release"] = json!("z");
    let still = record_update(
        Some(&cleared),
        &changed,
        "kubectl",
        "Update",
        None,
        secret_schema(),
        T3,
    );
    assert!(
        still["metadata"].get("managedFields").is_none(),
        "an untracked object stays untracked until an apply"
    );
}

#[test]
fn status_writes_are_recorded_for_the_status_subresource_only() {
    let config = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}
    });
    let created = apply(None, &config, "helm", false, deployment(), T1).unwrap();
    let mut with_status = created.clone();
    with_status["status"] =
        json!({"replicas": 1, "conditions": [{"type": "Available", "status": "True"}]});
    let updated = record_update(
        Some(&created),
        &with_status,
        "k2d",
        "Update",
        Some("status"),
        deployment(),
        T2,
    );
    let e = entry(&updated, "k2d", "Update");
    assert_eq!(e["subresource"], "status");
    assert_eq!(
        fields(e),
        r#"{"f:status":{"f:conditions":{".":{},"k:{\"type\":\"Available\"}":{".":{},"f:status":{},"f:type":{}}},"f:replicas":{}}}"#
    );
    let mut main = created.clone();
    main["status"] = json!({"replicas": 9});
    main["spec"]["paused"] = json!(true);
    let updated = record_update(
        Some(&created),
        &main,
        "kubectl-edit",
        "Update",
        None,
        deployment(),
        T2,
    );
    assert_eq!(
        fields(entry(&updated, "kubectl-edit", "Update")),
        r#"{"f:spec":{"f:paused":{}}}"#
    );
}
