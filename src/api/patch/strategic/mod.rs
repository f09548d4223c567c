//! Kubernetes strategic merge patch, driven by the generated schema model
//! ([`crate::generated::SCHEMAS`]).
//!
//! Written by hand: no maintained Rust crate implements strategic merge patch (the reference is
//! the Go package `k8s.io/apimachinery/pkg/util/strategicpatch`, whose behaviour this follows).
//!
//! - Maps merge recursively; `null` deletes a field.
//! - Lists follow their field's `x-kubernetes-patch-strategy`: `merge` lists of objects merge
//!   item by item on `x-kubernetes-patch-merge-key`, `merge` lists of primitives are a union,
//!   every other list is replaced. A field with `patchStrategy: replace` is replaced whole.
//! - Directives: `$patch: replace | delete` on a map or a list item (`merge` is refused, as on a
//!   real server), `$retainKeys`, `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`.
//!   Any other `$`-key where the schema declares no such field is refused.
//! - Where the schema knows nothing (no schema, `Any`, an undeclared field) it is a JSON merge
//!   patch: maps merge, lists are replaced.
//! - The order of merged lists is the real server's (see [`order`]).

mod clean;
mod directive;
mod failure;
mod go_fmt;
mod list;
mod map;
mod order;
mod schema;

use serde_json::{Map, Value};

use super::error::PatchError;
use super::json_patch::json_kind;
use schema::Shape;

/// Applies the strategic merge patch `patch` to `doc`, an object of the schema with index
/// `schema` in [`crate::generated::SCHEMAS`] (`None`: nothing known, JSON merge semantics).
/// `doc` is not changed. A `null` patch changes nothing; any other patch that is not an object
/// is a 400, as on a real server.
pub fn strategic_merge_patch(
    doc: &Value,
    patch: &Value,
    schema: Option<usize>,
) -> Result<Value, PatchError> {
    let patch = match patch {
        Value::Object(patch) => patch.clone(),
        Value::Null => return Ok(doc.clone()),
        other => {
            return Err(PatchError::bad_request(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(other)
            )));
        }
    };
    let original = doc.as_object().cloned().unwrap_or_else(Map::new);
    map::merge_map(original, patch, Shape::root(schema)).map(Value::Object)
}

/// Reads a strategic merge patch body: JSON, else a 400 with the parser's message.
pub fn parse_strategic_patch(body: &[u8]) -> Result<Value, PatchError> {
    serde_json::from_slice(body).map_err(|e| PatchError::bad_request(e.to_string()))
}
