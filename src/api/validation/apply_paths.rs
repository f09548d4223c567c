//! Unknown fields of a server-side apply body, named as the merge engine of kube-apiserver
//! (structured-merge-diff) names them: a leading dot, list elements by their keys where the list
//! is keyed (`.spec.template.spec.containers[name="c"].bogus`), by value in sets (`[="a"]`), by
//! index otherwise (`.spec.ingress[0].bogus`).

use serde_json::Value;

use crate::api::model::{Field, Ty};
use crate::generated::SCHEMAS;

/// `<path>: field not declared in schema` for every field of `obj` the schema does not declare,
/// in the object's key order.
pub(crate) fn undeclared_fields(obj: &Value, schema: usize) -> Vec<String> {
    let mut out = Vec::new();
    object(obj, schema, "", &mut out);
    out
}

fn object(v: &Value, schema: usize, path: &str, out: &mut Vec<String>) {
    let Some(map) = v.as_object() else {
        return;
    };
    for (k, child) in map {
        let p = format!("{path}.{k}");
        match SCHEMAS[schema].field(k) {
            Some(f) => value(child, &f.ty, Some(f), &p, out),
            None => out.push(format!("{p}: field not declared in schema")),
        }
    }
}

fn value(v: &Value, ty: &Ty, field: Option<&Field>, path: &str, out: &mut Vec<String>) {
    match ty {
        Ty::Object(i) => object(v, *i, path, out),
        Ty::Map(t) => {
            if let Some(map) = v.as_object() {
                for (k, child) in map {
                    value(child, t, None, &format!("{path}.{k}"), out);
                }
            }
        }
        Ty::Array(t) => {
            if let Some(items) = v.as_array() {
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{path}{}", element(item, i, field));
                    value(item, t, None, &p, out);
                }
            }
        }
        _ => {}
    }
}

/// How the merge engine names an element: by its key fields in a keyed list (`x-kubernetes-list-type:
/// map`, or a strategic merge key), by value in a set, by index otherwise.
fn element(item: &Value, index: usize, field: Option<&Field>) -> String {
    let Some(f) = field else {
        return format!("[{index}]");
    };
    let keys: Vec<&str> = if f.list_type == "map" && !f.list_map_keys.is_empty() {
        f.list_map_keys.to_vec()
    } else if f.list_type.is_empty() && !f.merge_key.is_empty() {
        vec![f.merge_key]
    } else {
        Vec::new()
    };
    if f.list_type == "set" {
        return format!("[={}]", item);
    }
    let mut parts: Vec<(&str, String)> = keys
        .iter()
        .filter_map(|k| item.get(*k).map(|v| (*k, v.to_string())))
        .collect();
    if parts.is_empty() {
        return format!("[{index}]");
    }
    parts.sort();
    let joined: Vec<String> = parts.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("[{}]", joined.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::schema_index;
    use serde_json::json;

    #[test]
    fn names_fields_as_the_merge_engine_does() {
        let d = schema_index("io.k8s.api.apps.v1.Deployment").unwrap();
        let obj = json!({"spec": {"bogusField": 1, "template": {"spec": {
            "containers": [{"name": "c", "bogus": 1, "ports": [{"containerPort": 80, "protocol": "TCP", "x": 1}]}]}}}});
        assert_eq!(
            undeclared_fields(&obj, d),
            vec![
                ".spec.bogusField: field not declared in schema",
                ".spec.template.spec.containers[name=\"c\"].bogus: field not declared in schema",
                ".spec.template.spec.containers[name=\"c\"].ports[containerPort=80,protocol=\"TCP\"].x: field not declared in schema",
            ]
        );
    }

    #[test]
    fn clean_objects_have_none() {
        let s = schema_index("io.k8s.api.core.v1.Service").unwrap();
        let obj = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "labels": {"a": "b"}},
            "spec": {"ports": [{"port": 80, "targetPort": 80}], "selector": {"app": "web"}}});
        assert!(undeclared_fields(&obj, s).is_empty());
    }
}
