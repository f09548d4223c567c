//! JSON patch (RFC 6902), applied with the `json-patch` crate, with kube-apiserver's error
//! classes: a body that is not a JSON array of objects is a 400, an operation that cannot be
//! decoded or applied (unknown `op`, missing path, failed `test`) is a 422, and more than
//! [`MAX_OPERATIONS`] operations is a 413.

use ::json_patch::{PatchErrorKind as OpErrorKind, PatchOperation};
use serde_json::Value;

use super::error::{PatchError, PatchErrorKind};

/// The most operations kube-apiserver accepts in one JSON patch.
pub const MAX_OPERATIONS: usize = 10_000;

/// Applies the RFC 6902 patch in `patch` (the request body) to `doc`. All operations apply, or
/// none does: `doc` is never changed, the result is a new value.
pub fn json_patch(doc: &Value, patch: &[u8]) -> Result<Value, PatchError> {
    let ops = decode(patch)?;
    let mut out = doc.clone();
    // One operation at a time on a copy: the crate's own all-or-nothing undo of earlier
    // operations panics on some sequences (a move into its own child after other operations);
    // dropping the copy on the first failure gives the same atomicity without it.
    for (i, op) in ops.iter().enumerate() {
        ::json_patch::patch(&mut out, std::slice::from_ref(op))
            .map_err(|e| PatchError::unprocessable(describe_failure(doc, &ops[i], &e.kind)))?;
    }
    Ok(out)
}

/// Decodes the operations: the body must be a JSON array of objects (400 otherwise); each
/// object must be a well-formed operation (422 otherwise, as kube-apiserver only finds out
/// when it applies it).
fn decode(patch: &[u8]) -> Result<Vec<PatchOperation>, PatchError> {
    let raw: Value = serde_json::from_slice(patch)
        .map_err(|e| PatchError::bad_request(format!("error decoding patch: {e}")))?;
    let Value::Array(items) = raw else {
        return Err(PatchError::bad_request(format!(
            "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
            json_kind(&raw)
        )));
    };
    if items.len() > MAX_OPERATIONS {
        return Err(PatchError::new(
            PatchErrorKind::TooLarge,
            format!(
                "The allowed maximum operations in a JSON patch is {MAX_OPERATIONS}, got {}",
                items.len()
            ),
        ));
    }
    if let Some(bad) = items.iter().find(|i| !i.is_object()) {
        return Err(PatchError::bad_request(format!(
            "json: cannot unmarshal {} into Go value of type jsonpatch.Operation",
            json_kind(bad)
        )));
    }
    items
        .into_iter()
        .map(|item| {
            let op = item
                .get("op")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            serde_json::from_value::<PatchOperation>(item).map_err(|e| match op.as_str() {
                "add" | "remove" | "replace" | "move" | "copy" | "test" => {
                    PatchError::unprocessable(format!("{op} operation is malformed: {e}"))
                }
                _ => PatchError::unprocessable(format!("Unexpected kind: {op}")),
            })
        })
        .collect()
}

/// The message of a failed operation, worded like the Go JSON patch library's (which tells a
/// missing key of an existing object from a path whose parent is missing, for `replace`).
fn describe_failure(doc: &Value, op: &PatchOperation, kind: &OpErrorKind) -> String {
    let path = op.path().to_string();
    let parent_exists = path
        .rsplit_once('/')
        .is_some_and(|(parent, _)| doc.pointer(parent).is_some());
    match (op, kind) {
        (_, OpErrorKind::TestFailed) => format!("testing value {path} failed: test failed"),
        (PatchOperation::Move(m), OpErrorKind::InvalidFromPointer) => format!(
            "move operation does not apply: doc is missing from path: {}: missing value",
            m.from
        ),
        (PatchOperation::Copy(c), OpErrorKind::InvalidFromPointer) => format!(
            "copy operation does not apply: doc is missing from path: {}: missing value",
            c.from
        ),
        (_, OpErrorKind::CannotMoveInsideItself) => {
            format!("move operation does not apply: cannot move {path} inside itself")
        }
        (PatchOperation::Add(_), _) => {
            format!("add operation does not apply: doc is missing path: \"{path}\": missing value")
        }
        (PatchOperation::Remove(_), _) => {
            format!(
                "remove operation does not apply: doc is missing path: \"{path}\": missing value"
            )
        }
        (PatchOperation::Replace(_), _) => {
            let what = if parent_exists { "key" } else { "path" };
            format!(
                "replace operation does not apply: doc is missing {what}: {path}: missing value"
            )
        }
        (_, other) => format!("{path}: {other}"),
    }
}

/// How Go's JSON decoder names the kind of a JSON value.
pub(super) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
