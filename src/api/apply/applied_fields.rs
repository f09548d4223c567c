//! The set of fields an applied configuration sets: what its manager owns after the apply.
//!
//! Scalars, atomic values and associative-list items are members; a struct field is a member
//! only when its value is `null` or `{}`; a map key always is. An empty list sets nothing, as
//! in Kubernetes.

use std::collections::BTreeSet;

use serde_json::Value;

use super::field_set::FieldSet;
use super::list_item;
use super::path::{Path, PathElement};
use super::shape::Shape;

/// The fields `config` sets, for a value of this shape.
pub fn applied_fields(config: &Value, shape: Shape) -> Result<FieldSet, String> {
    let mut out = FieldSet::new();
    walk(config, shape, &mut Vec::new(), &mut out)?;
    Ok(out)
}

fn walk(
    v: &Value,
    shape: Shape,
    path: &mut Vec<PathElement>,
    out: &mut FieldSet,
) -> Result<(), String> {
    match (shape, v) {
        (Shape::Struct(_) | Shape::Map(_) | Shape::Deduced, Value::Object(m)) => {
            for (k, child) in m {
                let (child_shape, declared) = shape.child(k);
                path.push(PathElement::field(k));
                walk(child, child_shape, path, out)?;
                let empty = child.is_null() || child.as_object().is_some_and(|m| m.is_empty());
                if empty || !declared {
                    out.insert(path);
                }
                path.pop();
            }
        }
        (Shape::List(ty, keys), Value::Array(items)) => {
            let mut seen = BTreeSet::new();
            for (i, item) in items.iter().enumerate() {
                let pe = list_item::element(keys, ty, item)
                    .map_err(|e| format!("{}: element {i}: {e}", Path(path.clone())))?;
                if !seen.insert(pe.clone()) {
                    return Err(format!(
                        "{}: duplicate entries for key {pe}",
                        Path(path.clone())
                    ));
                }
                path.push(pe);
                walk(item, shape.item(), path, out)?;
                out.insert(path);
                path.pop();
            }
        }
        (Shape::Struct(_) | Shape::Map(_) | Shape::List(..), Value::Null) => {}
        _ => out.insert(path),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::apply::fields_v1;
    use crate::generated::schema_index;
    use serde_json::json;

    fn deployment() -> Shape {
        Shape::root(schema_index("io.k8s.api.apps.v1.Deployment"))
    }

    #[test]
    fn owns_what_the_configuration_sets() {
        let config = json!({
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{
                        "name": "nginx", "image": "nginx:1.28",
                        "ports": [{"containerPort": 80}], "resources": {}
                    }]}
                }
            }
        });
        let set = applied_fields(&config, deployment()).unwrap();
        assert_eq!(
            fields_v1::to_json_string(&set),
            r#"{"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}},"f:resources":{}}}}}}}"#
        );
    }

    #[test]
    fn refuses_missing_keys_and_duplicates() {
        let missing = json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}});
        let err = applied_fields(&missing, deployment()).unwrap_err();
        assert_eq!(
            err,
            ".spec.template.spec.containers: element 0: associative list with keys has an \
             element that omits key field \"name\" (and doesn't have default value)"
        );
        let dup =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "a"}]}}}});
        let err = applied_fields(&dup, deployment()).unwrap_err();
        assert_eq!(
            err,
            ".spec.template.spec.containers: duplicate entries for key [name=\"a\"]"
        );
    }

    #[test]
    fn without_schema_maps_are_granular_and_lists_atomic() {
        let set = applied_fields(&json!({"a": {"b": 1, "c": [1, 2]}}), Shape::Deduced).unwrap();
        assert_eq!(
            fields_v1::to_json_string(&set),
            r#"{"f:a":{".":{},"f:b":{},"f:c":{}}}"#
        );
    }
}
