//! What the Deployment controller reads and writes on its ReplicaSets: their counts, revisions
//! and annotations, which one runs the Deployment's current template, and the body of a new one.

use serde_json::{Map, Value, json};

use super::super::ownership;
use super::super::template_hash::template_hash;
use crate::api::meta;

/// The label that tells a Deployment's ReplicaSets (and their pods) apart.
pub const HASH_LABEL: &str = "pod-template-hash";
/// The revision a ReplicaSet (and its Deployment) stands for.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// The earlier revisions a reused ReplicaSet stood for, comma-separated.
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
/// The Deployment's replicas when the ReplicaSet was last scaled.
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
/// The Deployment's replicas plus its maxSurge when the ReplicaSet was last scaled.
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";

/// Annotations of a Deployment that its ReplicaSets do not copy.
const NOT_COPIED: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];

fn int(obj: &Value, pointer: &str) -> i64 {
    obj.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// `spec.replicas` (1 when unset, the default).
pub fn spec_replicas(obj: &Value) -> i64 {
    obj.pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

/// `status.replicas`.
pub fn status_replicas(rs: &Value) -> i64 {
    int(rs, "/status/replicas")
}

/// `status.readyReplicas`.
pub fn ready(rs: &Value) -> i64 {
    int(rs, "/status/readyReplicas")
}

/// `status.availableReplicas`.
pub fn available(rs: &Value) -> i64 {
    int(rs, "/status/availableReplicas")
}

/// Available pods that will stay: never more than `spec.replicas`, so that a ReplicaSet just
/// scaled down (whose status still counts the pods about to go) is not counted high.
pub fn staying_available(rs: &Value) -> i64 {
    available(rs).min(spec_replicas(rs))
}

/// The revision annotation (0 when absent or unreadable).
pub fn revision(obj: &Value) -> u64 {
    annotation(obj, REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// One annotation of an object.
pub fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

/// A pod template as compared between a Deployment and its ReplicaSets: without the hash label
/// and without empty or null metadata that does not change the pods.
pub fn normalized_template(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(m) = t.get_mut("metadata").and_then(Value::as_object_mut) {
        if let Some(labels) = m.get_mut("labels").and_then(Value::as_object_mut) {
            labels.remove(HASH_LABEL);
        }
        m.retain(|_, v| match v {
            Value::Null => false,
            Value::Object(o) => !o.is_empty(),
            Value::Array(a) => !a.is_empty(),
            _ => true,
        });
    }
    t
}

/// Whether a ReplicaSet runs this Deployment template (ignoring the hash label).
pub fn runs_template(rs: &Value, template: &Value) -> bool {
    rs.pointer("/spec/template")
        .is_some_and(|t| normalized_template(t) == normalized_template(template))
}

/// The annotations a Deployment passes on to its ReplicaSets.
pub fn copied_annotations(deployment: &Value) -> Map<String, Value> {
    deployment
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .map(|a| {
            a.iter()
                .filter(|(k, _)| !NOT_COPIED.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The annotations the current ReplicaSet of a Deployment should carry, given its present
/// ones: the Deployment's copied annotations, and revision `new_revision` when its own is
/// lower (the older revision goes to the revision history). `None` when nothing changes.
pub fn current_annotations(
    rs: &Value,
    deployment: &Value,
    new_revision: u64,
) -> Option<Map<String, Value>> {
    let present = rs
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut wanted = present.clone();
    wanted.extend(copied_annotations(deployment));
    let old = revision(rs);
    if old < new_revision {
        wanted.insert(REVISION.into(), json!(new_revision.to_string()));
        if old > 0 {
            let history = match present.get(REVISION_HISTORY).and_then(Value::as_str) {
                Some(h) if !h.is_empty() => format!("{h},{old}"),
                _ => old.to_string(),
            };
            wanted.insert(REVISION_HISTORY.into(), json!(history));
        }
    }
    (wanted != present).then_some(wanted)
}

/// A new ReplicaSet for a Deployment's current template: named `<deployment>-<hash>`, the hash
/// label added to its selector, template and labels, controlled by the Deployment.
pub fn new_replicaset(
    deployment: &Value,
    collision_count: Option<u32>,
    replicas: i64,
    revision: u64,
    max_surge: i64,
) -> Value {
    let template = deployment
        .pointer("/spec/template")
        .cloned()
        .unwrap_or(json!({}));
    let hash = template_hash(&template, collision_count);
    let name = format!(
        "{}-{hash}",
        meta::meta_str(deployment, "name").unwrap_or_default()
    );
    let mut rs_template = template;
    rs_template["metadata"]["labels"][HASH_LABEL] = json!(hash);
    let mut selector = deployment
        .pointer("/spec/selector")
        .cloned()
        .unwrap_or(json!({}));
    selector["matchLabels"][HASH_LABEL] = json!(hash);
    let mut annotations = copied_annotations(deployment);
    let desired = spec_replicas(deployment);
    annotations.insert(REVISION.into(), json!(revision.to_string()));
    annotations.insert(DESIRED_REPLICAS.into(), json!(desired.to_string()));
    annotations.insert(
        MAX_REPLICAS.into(),
        json!((desired + max_surge).to_string()),
    );
    let mut spec = json!({
        "replicas": replicas,
        "selector": selector,
        "template": rs_template.clone(),
    });
    if let Some(m) = deployment.pointer("/spec/minReadySeconds") {
        spec["minReadySeconds"] = m.clone();
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": meta::meta_str(deployment, "namespace").unwrap_or("default"),
            "labels": rs_template["metadata"]["labels"],
            "annotations": annotations,
            "ownerReferences": [ownership::reference_to(deployment)],
        },
        "spec": spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "ns", "uid": "d1", "annotations": {
                "kubernetes.io/change-cause": "v2",
                "kubectl.kubernetes.io/last-applied-configuration": "{}",
                REVISION: "3",
            }},
            "spec": {"replicas": 3, "minReadySeconds": 5, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}},
        })
    }

    #[test]
    fn a_new_replicaset_carries_the_hash_and_revision() {
        let d = deployment();
        let rs = new_replicaset(&d, None, 1, 4, 1);
        let hash = rs["spec"]["template"]["metadata"]["labels"][HASH_LABEL]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(rs["metadata"]["name"], json!(format!("web-{hash}")));
        assert_eq!(
            rs["spec"]["selector"]["matchLabels"][HASH_LABEL],
            json!(hash)
        );
        assert_eq!(rs["metadata"]["labels"][HASH_LABEL], json!(hash));
        assert_eq!(rs["metadata"]["annotations"][REVISION], json!("4"));
        assert_eq!(rs["metadata"]["annotations"][DESIRED_REPLICAS], json!("3"));
        assert_eq!(rs["metadata"]["annotations"][MAX_REPLICAS], json!("4"));
        assert_eq!(
            rs["metadata"]["annotations"]["kubernetes.io/change-cause"],
            json!("v2")
        );
        assert!(
            rs["metadata"]["annotations"]
                .get("kubectl.kubernetes.io/last-applied-configuration")
                .is_none()
        );
        assert_eq!(rs["spec"]["minReadySeconds"], json!(5));
        assert_eq!(rs["metadata"]["ownerReferences"][0]["uid"], json!("d1"));
        assert!(runs_template(&rs, &d["spec"]["template"]));
        let mut changed = d["spec"]["template"].clone();
        changed["spec"]["containers"][0]["image"] = json!("j");
        assert!(!runs_template(&rs, &changed));
        assert_ne!(
            new_replicaset(&d, Some(1), 1, 4, 1)["metadata"]["name"],
            rs["metadata"]["name"]
        );
    }

    #[test]
    fn a_reused_replicaset_moves_its_revision_to_the_history() {
        let d = deployment();
        let rs = json!({"metadata": {"annotations": {REVISION: "1", "kubernetes.io/change-cause": "v2"}}});
        let a = current_annotations(&rs, &d, 4).unwrap();
        assert_eq!(a[REVISION], json!("4"));
        assert_eq!(a[REVISION_HISTORY], json!("1"));
        let again = json!({"metadata": {"annotations": a}});
        assert!(current_annotations(&again, &d, 4).is_none());
        let later = current_annotations(&again, &d, 6).unwrap();
        assert_eq!(later[REVISION_HISTORY], json!("1,4"));
    }

    #[test]
    fn staying_available_never_exceeds_the_spec() {
        let rs = json!({"spec": {"replicas": 2}, "status": {"availableReplicas": 3}});
        assert_eq!(staying_available(&rs), 2);
        assert_eq!(spec_replicas(&json!({})), 1);
    }
}
