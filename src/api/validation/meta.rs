//! The part of kube-apiserver's `ValidateObjectMeta` that applies to every kind: name and
//! generateName against the kind's rule, namespace presence, label keys and values, annotation
//! keys and total size. Errors come in kube-apiserver's order.

use serde_json::{Map, Value};

use super::dns::dns1123_label;
use super::field_error::FieldError;
use super::labels::{label_value, qualified_name};
use super::names::{name_rule, validate_generate_name, validate_name};
use crate::api::model::ResourceInfo;

/// Largest total size of the annotations (keys plus values), in bytes.
pub const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

/// Checks an object's `metadata` for a create or update, after `generateName` has produced a name
/// and the namespace of the request has been filled in.
pub fn validate_object_meta(resource: &ResourceInfo, obj: &Value) -> Vec<FieldError> {
    let empty = Map::new();
    let meta = obj
        .get("metadata")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let text = |k: &str| meta.get(k).and_then(Value::as_str).unwrap_or_default();
    let rule = name_rule(resource);
    let mut errs = Vec::new();

    if let Err(e) = validate_generate_name(rule, text("generateName")) {
        errs.extend(e);
    }
    if let Err(e) = validate_name(rule, text("name")) {
        errs.extend(e);
    }
    let namespace = text("namespace");
    if resource.namespaced {
        if namespace.is_empty() {
            errs.push(FieldError::required("metadata.namespace", ""));
        } else {
            errs.extend(
                dns1123_label(namespace)
                    .into_iter()
                    .map(|m| FieldError::invalid("metadata.namespace", namespace, m)),
            );
        }
    } else if !namespace.is_empty() {
        errs.push(FieldError {
            kind: super::field_error::ErrorKind::Forbidden,
            field: "metadata.namespace".into(),
            value: Value::Null,
            detail: "not allowed on this type".into(),
        });
    }
    if let Some(labels) = meta.get("labels").and_then(Value::as_object) {
        errs.extend(validate_labels(labels, "metadata.labels"));
    }
    if let Some(annotations) = meta.get("annotations").and_then(Value::as_object) {
        errs.extend(validate_annotations(annotations, "metadata.annotations"));
    }
    errs
}

/// Label keys and values; errors name the whole map (`metadata.labels`), as Kubernetes does.
pub fn validate_labels(labels: &Map<String, Value>, field: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (k, v) in labels {
        errs.extend(
            qualified_name(k)
                .into_iter()
                .map(|m| FieldError::invalid(field, k.as_str(), m)),
        );
        let v = v.as_str().unwrap_or_default();
        errs.extend(
            label_value(v)
                .into_iter()
                .map(|m| FieldError::invalid(field, v, m)),
        );
    }
    errs
}

/// Annotation keys (qualified names, case ignored) and the 256 KiB limit on the whole map.
pub fn validate_annotations(annotations: &Map<String, Value>, field: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut size = 0usize;
    for (k, v) in annotations {
        errs.extend(
            qualified_name(&k.to_lowercase())
                .into_iter()
                .map(|m| FieldError::invalid(field, k.as_str(), m)),
        );
        size += k.len() + v.as_str().map_or(0, str::len);
    }
    if size > ANNOTATIONS_MAX_BYTES {
        errs.push(FieldError::too_long(field, ANNOTATIONS_MAX_BYTES));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn res(group: &str, name: &str) -> &'static crate::api::model::ResourceInfo {
        crate::generated::resource(group, name).unwrap()
    }

    #[test]
    fn a_valid_deployment_passes() {
        let d = json!({"metadata": {"name": "web", "namespace": "default",
            "labels": {"app": "web", "app.kubernetes.io/name": "web"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}}});
        assert!(validate_object_meta(res("apps", "deployments"), &d).is_empty());
    }

    #[test]
    fn namespace_names_are_labels() {
        let ns = json!({"metadata": {"name": "team.a"}});
        let errs = validate_object_meta(res("", "namespaces"), &ns);
        assert_eq!(
            errs[0].to_string(),
            r#"metadata.name: Invalid value: "team.a": must not contain dots"#
        );
    }

    #[test]
    fn service_names_start_with_a_letter() {
        let svc = json!({"metadata": {"name": "1web", "namespace": "default"}});
        let errs = validate_object_meta(res("", "services"), &svc);
        assert_eq!(errs.len(), 1);
        assert!(errs[0].detail.starts_with("a DNS-1035 label"));
    }

    #[test]
    fn missing_name_and_namespace() {
        let errs = validate_object_meta(res("", "configmaps"), &json!({"metadata": {}}));
        let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            vec![
                "metadata.name: Required value: name or generateName is required",
                "metadata.namespace: Required value"
            ]
        );
    }

    #[test]
    fn cluster_scoped_objects_refuse_a_namespace() {
        let errs = validate_object_meta(
            res("", "namespaces"),
            &json!({"metadata": {"name": "a", "namespace": "b"}}),
        );
        assert_eq!(
            errs[0].to_string(),
            "metadata.namespace: Forbidden: not allowed on this type"
        );
    }

    #[test]
    fn bad_labels_and_annotations() {
        let obj = json!({"metadata": {"name": "p", "namespace": "default",
            "labels": {"-bad": "ok", "good": "not ok"},
            "annotations": {"Example.com/Key": "fine", "bad key": "x"}}});
        let errs = validate_object_meta(res("", "pods"), &obj);
        assert_eq!(errs.len(), 3);
        assert_eq!(errs[0].field, "metadata.labels");
        assert_eq!(errs[0].value, json!("-bad"));
        assert_eq!(errs[1].value, json!("not ok"));
        assert_eq!(errs[2].field, "metadata.annotations");
        assert_eq!(errs[2].value, json!("bad key"));
    }

    #[test]
    fn annotations_over_256k() {
        let big = "x".repeat(ANNOTATIONS_MAX_BYTES);
        let obj =
            json!({"metadata": {"name": "p", "namespace": "default", "annotations": {"a": big}}});
        let errs = validate_object_meta(res("", "pods"), &obj);
        assert_eq!(
            errs[0].to_string(),
            "metadata.annotations: Too long: must have at most 262144 bytes"
        );
    }
}
