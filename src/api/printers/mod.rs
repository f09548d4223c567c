//! Table rows: the cells `kubectl get` prints for an object. Columns come from the spec
//! (`x-k2d-resources`); a cell is the column's JSONPath value, except for the columns a real
//! server computes (a pod's READY `1/1`, a service's PORT(S) `80/TCP`...), which [`kinds`]
//! computes the same way. `date` columns print as ages (`5m`), as the built-in printers do.

pub mod age;
pub mod kinds;

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Value, json};
use serde_json_path::JsonPath;

use super::model::{Column, ResourceInfo};
use crate::generated::RESOURCES;

/// A CRD-style JSONPath (`.status.x`, `[?(@.type=="Ready")]`) in RFC 9535 form (`$.status.x`,
/// `[?@.type=="Ready"]`).
fn rfc9535(path: &str) -> String {
    format!("${}", path.replace("[?(", "[?").replace(")]", "]"))
}

/// Every column's parsed path, parsed once.
fn paths() -> &'static HashMap<&'static str, JsonPath> {
    static PATHS: OnceLock<HashMap<&'static str, JsonPath>> = OnceLock::new();
    PATHS.get_or_init(|| {
        RESOURCES
            .iter()
            .flat_map(|r| r.columns.iter())
            .filter_map(|c| {
                JsonPath::parse(&rfc9535(c.json_path))
                    .ok()
                    .map(|p| (c.json_path, p))
            })
            .collect()
    })
}

/// A value as a cell prints it: strings as they are, maps as `k=v,...`, lists joined by commas.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", text(v)))
            .collect::<Vec<_>>()
            .join(","),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// The cell of a column from its JSONPath: `null` when the object has no value there (kubectl
/// prints `<none>`).
fn path_cell(column: &Column, obj: &Value) -> Value {
    let Some(path) = paths().get(column.json_path) else {
        return Value::Null;
    };
    let nodes = path.query(obj).all();
    match nodes.as_slice() {
        [] => Value::Null,
        [one] if column.ty == "date" => one
            .as_str()
            .map(|t| json!(age::since(t)))
            .unwrap_or(Value::Null),
        [one] if matches!(one, Value::Number(_) | Value::Bool(_)) => (*one).clone(),
        many => {
            let s = many.iter().map(|v| text(v)).collect::<Vec<_>>().join(",");
            if s.is_empty() { Value::Null } else { json!(s) }
        }
    }
}

/// The column definitions as a Table sends them (`date` columns become `string`: they carry
/// ages).
pub fn column_definitions(resource: &ResourceInfo) -> Vec<Value> {
    resource
        .columns
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "type": if c.ty == "date" { "string" } else { c.ty },
                "format": c.format,
                "description": c.name,
                "priority": c.priority,
            })
        })
        .collect()
}

/// The cells of one object's row.
pub fn cells(resource: &ResourceInfo, obj: &Value) -> Vec<Value> {
    resource
        .columns
        .iter()
        .map(|c| kinds::cell(resource, c.name, obj).unwrap_or_else(|| path_cell(c, obj)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(group: &str, name: &str) -> &'static crate::api::model::ResourceInfo {
        crate::generated::resource(group, name).unwrap()
    }

    #[test]
    fn every_column_path_parses() {
        for r in RESOURCES {
            for c in r.columns {
                assert!(
                    paths().contains_key(c.json_path),
                    "{}: {} {}",
                    r.name,
                    c.name,
                    c.json_path
                );
            }
        }
    }

    #[test]
    fn generic_cells_follow_their_paths() {
        let sc = json!({"metadata": {"name": "local"}, "provisioner": "k2d.io/local", "reclaimPolicy": "Delete"});
        let c = cells(resource("storage.k8s.io", "storageclasses"), &sc);
        assert_eq!(c[0], "local");
        assert_eq!(c[1], "k2d.io/local");
        assert_eq!(c[3], Value::Null);
        let rb = json!({"metadata": {"name": "rb"}, "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "name": "ann"}, {"kind": "Group", "name": "ops"}, {"kind": "User", "name": "bo"}]});
        let r = cells(resource("rbac.authorization.k8s.io", "rolebindings"), &rb);
        assert_eq!(r[1], "ClusterRole/view");
        assert_eq!(r[3], "ann, bo");
        assert_eq!(r[4], "ops");
    }
}
