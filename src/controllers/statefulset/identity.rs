//! A StatefulSet pod's identity: its ordinal and name (`<set>-<ordinal>`), the labels that name
//! it (`statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index`,
//! `controller-revision-hash`), its stable network identity (hostname = pod name, subdomain =
//! `serviceName`, which the cluster DNS answers as `<pod>.<service>.<ns>.svc.<domain>` from the
//! headless Service's endpoints) and its storage: one PersistentVolumeClaim per
//! volumeClaimTemplate, named `<template>-<set>-<ordinal>`, that outlives the pod.

use serde_json::{Map, Value, json};

use crate::api::meta;
use crate::controllers::ownership;
use crate::controllers::pod_control;
use crate::controllers::revisions::REVISION_LABEL;

/// The label naming a StatefulSet pod.
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// The label holding a StatefulSet pod's ordinal.
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

/// The first ordinal (`spec.ordinals.start`, default 0).
pub fn start_ordinal(set: &Value) -> u64 {
    set.pointer("/spec/ordinals/start")
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// `spec.replicas` (default 1).
pub fn replicas(set: &Value) -> u64 {
    set.pointer("/spec/replicas")
        .and_then(Value::as_u64)
        .unwrap_or(1)
}

/// The name of the pod with `ordinal`.
pub fn pod_name(set_name: &str, ordinal: u64) -> String {
    format!("{set_name}-{ordinal}")
}

/// The ordinal of a pod of `set_name`, from its name; `None` for a name of another shape (an
/// adopted pod that can have no identity in the set).
pub fn ordinal_of(set_name: &str, pod: &Value) -> Option<u64> {
    let name = meta::meta_str(pod, "name")?;
    let digits = name.strip_prefix(set_name)?.strip_prefix('-')?;
    if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    digits.parse().ok()
}

/// The name of the claim of volumeClaimTemplate `template` for `ordinal`.
pub fn claim_name(template: &str, set_name: &str, ordinal: u64) -> String {
    format!("{template}-{set_name}-{ordinal}")
}

/// The names of the set's volumeClaimTemplates.
fn claim_templates(set: &Value) -> Vec<&Value> {
    set.pointer("/spec/volumeClaimTemplates")
        .and_then(Value::as_array)
        .map(|v| v.iter().collect())
        .unwrap_or_default()
}

/// The pod with `ordinal` from `template` (the template of `revision`, a ControllerRevision
/// name), controlled by `set`.
pub fn pod(set: &Value, template: &Value, revision: &str, ordinal: u64) -> Value {
    let set_name = meta::meta_str(set, "name").unwrap_or_default();
    let name = pod_name(set_name, ordinal);
    let mut pod = pod_control::from_template(set, template);
    pod["metadata"]["name"] = json!(name);
    let labels = pod["metadata"]
        .as_object_mut()
        .expect("a pod's metadata is an object")
        .entry("labels")
        .or_insert_with(|| json!({}));
    labels[POD_NAME_LABEL] = json!(name);
    labels[POD_INDEX_LABEL] = json!(ordinal.to_string());
    labels[REVISION_LABEL] = json!(revision);
    let spec = pod["spec"]
        .as_object_mut()
        .expect("a pod template's spec is an object");
    spec.insert("hostname".into(), json!(name));
    if let Some(service) = set
        .pointer("/spec/serviceName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        spec.insert("subdomain".into(), json!(service));
    }
    let mut volumes: Vec<Value> = spec
        .get("volumes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for t in claim_templates(set) {
        let Some(tname) = meta::meta_str(t, "name") else {
            continue;
        };
        volumes.retain(|v| v.get("name").and_then(Value::as_str) != Some(tname));
        volumes.push(json!({
            "name": tname,
            "persistentVolumeClaim": {"claimName": claim_name(tname, set_name, ordinal)},
        }));
    }
    if !volumes.is_empty() {
        spec.insert("volumes".into(), json!(volumes));
    }
    pod
}

/// Whether `persistentVolumeClaimRetentionPolicy.<field>` is `Delete` (default Retain).
pub fn deletes_claims_when(set: &Value, field: &str) -> bool {
    set.pointer(&format!(
        "/spec/persistentVolumeClaimRetentionPolicy/{field}"
    ))
    .and_then(Value::as_str)
        == Some("Delete")
}

/// The claims of `ordinal`, from the volumeClaimTemplates: labelled with the set's selector
/// labels, owned by the set when `whenDeleted` is Delete (so they go with it).
pub fn claims(set: &Value, ordinal: u64) -> Vec<Value> {
    let set_name = meta::meta_str(set, "name").unwrap_or_default();
    let ns = meta::meta_str(set, "namespace").unwrap_or("default");
    let selector_labels = set
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    claim_templates(set)
        .into_iter()
        .filter_map(|t| {
            let tname = meta::meta_str(t, "name")?;
            let mut metadata = Map::new();
            metadata.insert("name".into(), json!(claim_name(tname, set_name, ordinal)));
            metadata.insert("namespace".into(), json!(ns));
            let mut labels = t
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            labels.extend(selector_labels.clone());
            if !labels.is_empty() {
                metadata.insert("labels".into(), Value::Object(labels));
            }
            if let Some(a) = t.pointer("/metadata/annotations") {
                metadata.insert("annotations".into(), a.clone());
            }
            if deletes_claims_when(set, "whenDeleted") {
                let mut owner = ownership::reference_to(set);
                owner["controller"] = json!(false);
                metadata.insert("ownerReferences".into(), json!([owner]));
            }
            Some(json!({
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": metadata,
                "spec": t.get("spec").cloned().unwrap_or(json!({})),
            }))
        })
        .collect()
}

/// The revision (ControllerRevision name) a pod runs.
pub fn revision_of(pod: &Value) -> Option<&str> {
    pod.pointer("/metadata/labels")
        .and_then(|l| l.get(REVISION_LABEL))
        .and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "ns", "uid": "u1"},
            "spec": {
                "serviceName": "db-hl",
                "selector": {"matchLabels": {"app": "db"}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}],
                "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Retain"},
            },
        })
    }

    #[test]
    fn ordinals_come_from_names() {
        let p = |n: &str| json!({"metadata": {"name": n}});
        assert_eq!(ordinal_of("db", &p("db-0")), Some(0));
        assert_eq!(ordinal_of("db", &p("db-12")), Some(12));
        assert_eq!(ordinal_of("db", &p("db-01")), None);
        assert_eq!(ordinal_of("db", &p("db-x")), None);
        assert_eq!(ordinal_of("db", &p("dbx-1")), None);
        assert_eq!(ordinal_of("db", &p("db-")), None);
    }

    #[test]
    fn pods_get_identity_and_claims() {
        let template = json!({"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [], "volumes": [{"name": "data", "emptyDir": {}}]}});
        let p = pod(&set(), &template, "db-abc", 2);
        assert_eq!(p["metadata"]["name"], "db-2");
        assert_eq!(p["metadata"]["labels"][POD_INDEX_LABEL], "2");
        assert_eq!(p["metadata"]["labels"][POD_NAME_LABEL], "db-2");
        assert_eq!(p["metadata"]["labels"][REVISION_LABEL], "db-abc");
        assert_eq!(p["spec"]["hostname"], "db-2");
        assert_eq!(p["spec"]["subdomain"], "db-hl");
        assert_eq!(
            p["spec"]["volumes"],
            json!([{"name": "data", "persistentVolumeClaim": {"claimName": "data-db-2"}}])
        );
        let c = claims(&set(), 2);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0]["metadata"]["name"], "data-db-2");
        assert_eq!(c[0]["metadata"]["labels"]["app"], "db");
        assert_eq!(c[0]["metadata"]["ownerReferences"][0]["uid"], "u1");
        let mut retained = set();
        retained["spec"]["persistentVolumeClaimRetentionPolicy"] = json!({});
        assert!(claims(&retained, 0)[0]["metadata"]["ownerReferences"].is_null());
    }
}
