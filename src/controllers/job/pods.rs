//! The pods of a Job: made from its template (named `<job>-`, or `<job>-<index>-` for an
//! Indexed Job, which also gets its index as annotation, label, `JOB_COMPLETION_INDEX` and
//! hostname `<job>-<index>`), controlled by the Job and labelled for its selector.

use serde_json::{Map, Value, json};

use super::indexes;
use crate::api::meta;
use crate::controllers::ownership;
use crate::translators::jobs::pod_labels;

/// The pod a Job runs (for `index` when it is Indexed).
pub fn build(job: &Value, index: Option<u64>) -> Value {
    let ns = meta::meta_str(job, "namespace").unwrap_or("default");
    let name = meta::meta_str(job, "name").unwrap_or_default();
    let uid = meta::meta_str(job, "uid").unwrap_or_default();
    let template = job.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let mut metadata = Map::new();
    let prefix = match index {
        Some(i) => format!("{name}-{i}-"),
        None => format!("{name}-"),
    };
    metadata.insert("generateName".into(), json!(prefix));
    metadata.insert("namespace".into(), json!(ns));
    for field in ["labels", "annotations", "finalizers"] {
        if let Some(v) = template.pointer(&format!("/metadata/{field}")) {
            metadata.insert(field.into(), v.clone());
        }
    }
    let manual = job.pointer("/spec/manualSelector").and_then(Value::as_bool) == Some(true);
    if !manual {
        let labels = object(&mut metadata, "labels");
        for (k, v) in pod_labels(uid, name) {
            labels.insert(k.into(), json!(v));
        }
    }
    metadata.insert(
        "ownerReferences".into(),
        json!([ownership::reference_to(job)]),
    );
    let mut spec = template.get("spec").cloned().unwrap_or(json!({}));
    if let Some(i) = index {
        object(&mut metadata, "annotations")
            .insert(indexes::ANNOTATION.into(), json!(i.to_string()));
        object(&mut metadata, "labels").insert(indexes::ANNOTATION.into(), json!(i.to_string()));
        add_index_env(&mut spec);
        if spec
            .get("hostname")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            spec["hostname"] = json!(format!("{name}-{i}"));
        }
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec})
}

fn object<'a>(m: &'a mut Map<String, Value>, field: &str) -> &'a mut Map<String, Value> {
    let v = m.entry(field).or_insert_with(|| json!({}));
    if !v.is_object() {
        *v = json!({});
    }
    v.as_object_mut().expect("made an object")
}

/// Gives every container `JOB_COMPLETION_INDEX` from the pod's index annotation.
fn add_index_env(spec: &mut Value) {
    let var = json!({"name": indexes::ENV, "valueFrom": {"fieldRef": {
        "fieldPath": format!("metadata.annotations['{}']", indexes::ANNOTATION)}}});
    for list in ["initContainers", "containers"] {
        let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for c in containers {
            let env = c
                .as_object_mut()
                .map(|c| c.entry("env").or_insert_with(|| json!([])));
            if let Some(Value::Array(env)) = env
                && !env.iter().any(|e| e["name"] == indexes::ENV)
            {
                env.push(var.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexed_pods_carry_their_index() {
        let job = json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "work", "namespace": "ns", "uid": "u"},
            "spec": {"template": {"metadata": {"labels": {"app": "w"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}});
        let pod = build(&job, Some(2));
        assert_eq!(pod["metadata"]["generateName"], "work-2-");
        assert_eq!(pod["metadata"]["annotations"][indexes::ANNOTATION], "2");
        assert_eq!(pod["metadata"]["labels"]["app"], "w");
        assert_eq!(
            pod["metadata"]["labels"]["batch.kubernetes.io/job-name"],
            "work"
        );
        assert_eq!(pod["spec"]["hostname"], "work-2");
        assert_eq!(pod["spec"]["containers"][0]["env"][0]["name"], indexes::ENV);
        assert_eq!(pod["metadata"]["ownerReferences"][0]["kind"], "Job");
        let plain = build(&job, None);
        assert_eq!(plain["metadata"]["generateName"], "work-");
        assert!(plain["spec"].get("hostname").is_none());
    }
}
