//! JSON merge patch (RFC 7386), applied with the `json-patch` crate: objects merge
//! recursively, `null` deletes a field, anything else (lists included) replaces.

use serde_json::Value;

use super::error::PatchError;

/// The message kube-apiserver gives for a merge patch body it cannot use.
const INVALID_MERGE_PATCH: &str = "Invalid JSON Patch";

/// Applies `patch` to `doc` and returns the result; `doc` is not changed.
pub fn merge_patch(doc: &Value, patch: &Value) -> Value {
    let mut out = doc.clone();
    ::json_patch::merge(&mut out, patch);
    out
}

/// Reads a merge patch body as kube-apiserver does: not JSON, `null` or a scalar is a 400; a
/// list is a 422 (it would replace the whole object with something that is not an object).
/// A body that is not JSON at all is reported as the server's field validation (the default,
/// Warn) reports it: `error decoding patch: ...`.
pub fn parse_merge_patch(body: &[u8]) -> Result<Value, PatchError> {
    let patch: Value = serde_json::from_slice(body)
        .map_err(|e| PatchError::bad_request(format!("error decoding patch: {e}")))?;
    match patch {
        Value::Object(_) => Ok(patch),
        Value::Array(_) => Err(PatchError::unprocessable(
            "json: cannot unmarshal array into Go value of type map[string]interface {}",
        )),
        _ => Err(PatchError::bad_request(INVALID_MERGE_PATCH)),
    }
}
