//! The strategic merge errors, worded as kube-apiserver words them (see
//! [`crate::api::patch::error`] for how each is answered).

use serde_json::{Map, Value};

use super::go_fmt::{go_type, go_value};
use crate::api::patch::error::PatchError;

/// A `$patch` value other than the ones allowed where it stands.
pub(super) fn unknown_patch_type(value: &Value, map: &Map<String, Value>) -> PatchError {
    PatchError::unclassified(format!(
        "unknown patch type: {} in map: {}",
        go_value(value),
        go_value(&Value::Object(map.clone()))
    ))
}

/// An item of a merge list without its merge key.
pub(super) fn no_merge_key(item: &Value, key: &str) -> PatchError {
    PatchError::unclassified(format!(
        "map: {} does not contain declared merge key: {key}",
        go_value(item)
    ))
}

/// A value of the wrong JSON type where a list or a map is needed.
pub(super) fn bad_arg_type(expected: &str, actual: &Value) -> PatchError {
    PatchError::unclassified(format!(
        "expected a {expected}, but received a {}",
        go_type(actual)
    ))
}

/// The Go name of a decoded JSON list, for [`bad_arg_type`].
pub(super) const LIST: &str = "[]interface {}";

/// The Go name of a decoded JSON object, for [`bad_arg_type`].
pub(super) const MAP: &str = "map[string]interface {}";

/// A list whose items are lists.
pub(super) fn list_of_lists() -> PatchError {
    PatchError::unprocessable("lists of lists are not supported")
}

/// A list whose items (original and patch together) are not all of one JSON type.
pub(super) fn mixed_items(original: &[Value], patch: &[Value]) -> PatchError {
    PatchError::unclassified(format!(
        "list element types are not identical: [{} {}]",
        go_value(&Value::Array(original.to_vec())),
        go_value(&Value::Array(patch.to_vec()))
    ))
}

/// A merge-strategy list of objects whose schema names no merge key.
pub(super) fn no_merge_key_declared(field: &str) -> PatchError {
    PatchError::unclassified(format!("cannot merge lists without merge key for {field}"))
}

/// A patch list that names items `$setElementOrder` does not list, or in another order.
pub(super) fn order_mismatch(patch: &[Value], order: &[Value]) -> PatchError {
    PatchError::unclassified(format!(
        "The order in patch list:\n{}\n doesn't match $setElementOrder list:\n{}\n",
        go_value(&Value::Array(patch.to_vec())),
        go_value(&Value::Array(order.to_vec()))
    ))
}

/// `$retainKeys` that is not a list, or a patch setting a key it does not list.
pub(super) fn bad_retain_keys() -> PatchError {
    PatchError::bad_request("invalid patch format of retainKeys")
}

/// `$deleteFromPrimitiveList/<field>` that is not a list of primitives.
pub(super) fn bad_primitive_list() -> PatchError {
    PatchError::bad_request("invalid patch format of primitive list")
}

/// A `$`-key that is neither a directive nor a field of the object it is in.
pub(super) fn unknown_directive(key: &str) -> PatchError {
    PatchError::bad_request(format!(
        "unknown strategic merge patch directive \"{key}\": the directives are $patch, \
         $retainKeys, $setElementOrder/<list> and $deleteFromPrimitiveList/<list>"
    ))
}
