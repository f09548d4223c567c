//! The strategic merge patch directives: their names, and reading them from a patch.

use serde_json::{Map, Value};

use super::failure::unknown_patch_type;
use crate::api::patch::error::PatchError;

/// `$patch`: `replace` or `delete` on a map or a list item, `replace` as a list item.
pub(super) const PATCH: &str = "$patch";
/// `$retainKeys`: the only keys the map keeps.
pub(super) const RETAIN_KEYS: &str = "$retainKeys";
/// `$setElementOrder/<field>`: the order of the list `<field>` after the merge.
pub(super) const SET_ELEMENT_ORDER: &str = "$setElementOrder";
/// `$deleteFromPrimitiveList/<field>`: values to remove from the primitive list `<field>`.
pub(super) const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";

/// A `$patch` value that can be obeyed (`merge` and unknown values are errors, as on a real
/// server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PatchDirective {
    /// Use the patch content instead of merging it; as a list item: replace the whole list.
    Replace,
    /// Remove the map; as a list item: remove the items with this merge key.
    Delete,
}

impl PatchDirective {
    /// Reads the `$patch` value of a map (`map` still holds it, for the message). Anything but
    /// `replace` and `delete` is the error kube-apiserver gives: `unknown patch type: merge in
    /// map: map[$patch:merge ...]`.
    pub(super) fn of_map(value: &Value, map: &Map<String, Value>) -> Result<Self, PatchError> {
        match value.as_str() {
            Some("replace") => Ok(PatchDirective::Replace),
            Some("delete") => Ok(PatchDirective::Delete),
            _ => Err(unknown_patch_type(value, map)),
        }
    }

    /// Reads the `$patch` value of a list item; `merge` is refused with kube-apiserver's words.
    pub(super) fn of_item(value: &Value, item: &Map<String, Value>) -> Result<Self, PatchError> {
        match value.as_str() {
            Some("replace") => Ok(PatchDirective::Replace),
            Some("delete") => Ok(PatchDirective::Delete),
            Some("merge") => Err(PatchError::unclassified(
                "merging lists cannot yet be specified in the patch",
            )),
            _ => Err(unknown_patch_type(value, item)),
        }
    }
}

/// The field a parallel-list directive key names: `containers` for
/// `$setElementOrder/containers`. `None` when `key` does not start with `prefix`; a key that
/// starts with it but is not `prefix/<field>` is malformed (400, as on a real server).
pub(super) fn target_field<'k>(key: &'k str, prefix: &str) -> Result<Option<&'k str>, PatchError> {
    if !key.starts_with(prefix) {
        return Ok(None);
    }
    match key.split_once('/') {
        Some((head, field)) if head == prefix => Ok(Some(field)),
        _ => Err(PatchError::bad_request(if prefix == SET_ELEMENT_ORDER {
            "invalid patch format of setElementOrder list"
        } else {
            "invalid patch format of primitive list"
        })),
    }
}

/// `true` for keys that are directives rather than fields (every directive starts with `$`).
pub(super) fn is_directive(key: &str) -> bool {
    key.starts_with('$')
}
