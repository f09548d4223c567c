//! Creating and deleting a controller's pods, as every workload controller does it: a pod
//! made from the controller's pod template (its labels, annotations, finalizers and spec, with
//! the controller as its controlling owner), written through the API, with the
//! `SuccessfulCreate`/`FailedCreate`/`SuccessfulDelete`/`FailedDelete` events about the
//! controller that `kubectl describe` shows.

use serde_json::{Map, Value, json};

use super::events::{EventType, Recorder};
use super::ownership;
use crate::api::meta;
use crate::api::status::Status;
use crate::client::{Client, object_path, path};

/// A pod of `owner` from `template` (a PodTemplateSpec), not yet named: the caller sets
/// `metadata.name` or `metadata.generateName` and whatever else it adds.
pub fn from_template(owner: &Value, template: &Value) -> Value {
    let ns = meta::meta_str(owner, "namespace").unwrap_or("default");
    let mut metadata = Map::new();
    metadata.insert("namespace".into(), json!(ns));
    for field in ["labels", "annotations", "finalizers"] {
        if let Some(v) = template.pointer(&format!("/metadata/{field}")) {
            metadata.insert(field.into(), v.clone());
        }
    }
    metadata.insert(
        "ownerReferences".into(),
        json!([ownership::reference_to(owner)]),
    );
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        // Always an object, so callers can add to it (validation refuses anything else).
        "spec": template.get("spec").filter(|s| s.is_object()).cloned().unwrap_or(json!({})),
    })
}

/// Creates `pod` in `owner`'s namespace and records the event about `owner`.
pub async fn create(
    client: &Client,
    events: &Recorder,
    owner: &Value,
    pod: &Value,
) -> Result<Value, Status> {
    let ns = meta::meta_str(owner, "namespace").unwrap_or("default");
    match client
        .create(&path("v1", "pods", Some(ns), None, None), pod)
        .await
    {
        Ok(created) => {
            let pod_name = meta::meta_str(&created, "name").unwrap_or_default();
            events
                .record(
                    owner,
                    None,
                    EventType::Normal,
                    "SuccessfulCreate",
                    &format!("Created pod: {pod_name}"),
                )
                .await;
            Ok(created)
        }
        Err(e) => {
            events
                .record(
                    owner,
                    None,
                    EventType::Warning,
                    "FailedCreate",
                    &format!("Error creating: {}", e.message),
                )
                .await;
            Err(e)
        }
    }
}

/// Deletes `pod` (only that incarnation of it: the uid is a precondition) and records the
/// event about `owner`. A pod already replaced by another of its name counts as deleted.
pub async fn delete(
    client: &Client,
    events: &Recorder,
    owner: &Value,
    pod: &Value,
) -> Result<(), Status> {
    let pod_name = meta::meta_str(pod, "name").unwrap_or_default();
    let options = json!({"preconditions": {"uid": meta::meta_str(pod, "uid")}});
    match client
        .delete(&object_path("pods", pod, None), &options)
        .await
    {
        Ok(_) => {
            events
                .record(
                    owner,
                    None,
                    EventType::Normal,
                    "SuccessfulDelete",
                    &format!("Deleted pod: {pod_name}"),
                )
                .await;
            Ok(())
        }
        Err(e) if e.code == 409 || e.code == 404 => Ok(()),
        Err(e) => {
            events
                .record(
                    owner,
                    None,
                    EventType::Warning,
                    "FailedDelete",
                    &format!("Error deleting: {}", e.message),
                )
                .await;
            Err(e)
        }
    }
}

/// Removes `pod` (by uid) from `pods`, a controller's view of its pods after deleting one.
pub fn forget(pods: &mut Vec<Value>, pod: &Value) {
    let uid = meta::meta_str(pod, "uid");
    pods.retain(|p| meta::meta_str(p, "uid") != uid);
}
