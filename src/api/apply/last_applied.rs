//! Moving from client-side to server-side apply with kubectl, as the real server allows it.
//!
//! - A server-side apply by the manager `kubectl` may take over, without `--force-conflicts`,
//!   the fields of the last client-side applied configuration (the
//!   `kubectl.kubernetes.io/last-applied-configuration` annotation) that still have the value
//!   it applied.
//! - After such an apply, an object that carries the annotation gets it rewritten to the new
//!   configuration, so that a later client-side apply computes the right patch.

use serde_json::{Map, Value};

use super::applied_fields::applied_fields;
use super::compare::compare;
use super::field_set::FieldSet;
use super::go_json;
use super::shape::Shape;

/// The annotation client-side apply keeps its configuration in.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// The only manager the real server does this for.
pub const KUBECTL: &str = "kubectl";
/// The limit on the total size of an object's annotations, in bytes.
const ANNOTATIONS_LIMIT: usize = 256 * 1024;

fn annotation(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/annotations")?
        .get(LAST_APPLIED_ANNOTATION)?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// The fields a kubectl server-side apply may take over from their owners: those of the last
/// client-side applied configuration that the live object still has as applied.
pub fn allowed_conflicts(live: &Value, shape: Shape) -> Option<FieldSet> {
    let last: Value = serde_json::from_str(annotation(live)?).ok()?;
    if !last.is_object() {
        return None;
    }
    let set = applied_fields(&last, shape).ok()?;
    let changed_since = compare(&last, live, shape).ok()?;
    Some(set.difference(&changed_since.modified))
}

/// Rewrites the annotation of `result`, if it has one, to `config` (without the annotation),
/// as compact JSON with a final newline, as kubectl writes it. Drops it when the annotations
/// would exceed their size limit.
pub fn sync(result: &mut Value, config: &Value) {
    if annotation(result).is_none() {
        return;
    }
    let mut applied = config.clone();
    if let Some(a) = applied
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.remove(LAST_APPLIED_ANNOTATION);
    }
    let text = go_json::to_string(&applied) + "\n";
    let Some(annotations) = result
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    annotations.insert(LAST_APPLIED_ANNOTATION.into(), Value::String(text));
    if annotations_size(annotations) > ANNOTATIONS_LIMIT {
        annotations.remove(LAST_APPLIED_ANNOTATION);
    }
}

fn annotations_size(a: &Map<String, Value>) -> usize {
    a.iter()
        .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::schema_index;
    use serde_json::json;

    fn live() -> Value {
        let last = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{},"name":"web"},"spec":{"replicas":2,"paused":false}}"#;
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "annotations": {LAST_APPLIED_ANNOTATION: format!("{last}\n")}},
            "spec": {"replicas": 2, "paused": true}
        })
    }

    #[test]
    fn fields_changed_since_the_last_apply_are_not_allowed() {
        let shape = Shape::root(schema_index("io.k8s.api.apps.v1.Deployment"));
        let allowed = allowed_conflicts(&live(), shape).unwrap();
        let printed: Vec<String> = allowed.paths().iter().map(ToString::to_string).collect();
        assert!(
            printed.contains(&".spec.replicas".to_string()),
            "{printed:?}"
        );
        assert!(
            !printed.contains(&".spec.paused".to_string()),
            "{printed:?}"
        );
    }

    #[test]
    fn sync_writes_the_new_configuration() {
        let mut result = live();
        let config = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3}});
        sync(&mut result, &config);
        assert_eq!(
            result["metadata"]["annotations"][LAST_APPLIED_ANNOTATION],
            "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":3}}\n"
        );
        let mut without = json!({"metadata": {"name": "x"}});
        sync(&mut without, &config);
        assert_eq!(without, json!({"metadata": {"name": "x"}}));
    }
}
