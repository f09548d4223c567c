//! Server-side Table output (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): what
//! `kubectl get` prints comes from here.

use serde_json::{Value, json};

use super::accept::{self, MediaRange};
use super::model::ResourceInfo;
use super::printers;

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

/// What `rows[].object` carries (`includeObject`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncludeObject {
    /// Nothing.
    None,
    /// `PartialObjectMetadata` (the default).
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// Parses the `includeObject` query parameter.
    pub fn parse(value: Option<&str>) -> Result<Self, super::Status> {
        match value {
            None | Some("") | Some("Metadata") => Ok(IncludeObject::Metadata),
            Some("None") => Ok(IncludeObject::None),
            Some("Object") => Ok(IncludeObject::Object),
            Some(other) => Err(super::Status::bad_request(format!(
                "includeObject: Unsupported value: \"{other}\": supported values: \"Metadata\", \"None\", \"Object\""
            ))),
        }
    }
}

/// One row: the cells and the object as asked.
pub fn row(resource: &ResourceInfo, obj: &Value, include: IncludeObject) -> Value {
    let mut row = json!({"cells": printers::cells(resource, obj)});
    match include {
        IncludeObject::None => {}
        IncludeObject::Metadata => {
            row["object"] = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
            })
        }
        IncludeObject::Object => row["object"] = obj.clone(),
    }
    row
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
        "columnDefinitions": printers::column_definitions(resource),
        "rows": rows,
    })
}
