//! Server-side Table output (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): what
//! `kubectl get` prints comes from here.

use serde_json::{Value, json};

use super::accept::{self, MediaRange};
use super::model::ResourceInfo;

/// The Table API versions k2d can answer with, in preference order.
const TABLE_VERSIONS: &[&str] = &["v1", "v1beta1"];

/// The Table version the client asked for, if it asked for a Table.
pub fn wanted(ranges: &[MediaRange]) -> Option<String> {
    accept::wants_as(ranges, "Table", "meta.k8s.io", TABLE_VERSIONS)
}

/// The Content-Type of a Table answer in this version.
pub fn content_type(version: &str) -> http::HeaderValue {
    http::HeaderValue::from_str(&format!(
        "application/json;as=Table;v={version};g=meta.k8s.io"
    ))
    .expect("a valid header value")
}

/// The `columnDefinitions` of a resource.
pub fn column_definitions(resource: &ResourceInfo) -> Vec<Value> {
    resource
        .columns
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "type": c.ty,
                "format": c.format,
                "description": c.name,
                "priority": c.priority,
            })
        })
        .collect()
}

/// A Table with these rows.
pub fn table(
    version: &str,
    resource: &ResourceInfo,
    resource_version: &str,
    rows: Vec<Value>,
) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": column_definitions(resource),
        "rows": rows,
    })
}
