//! Patch content that lands where the original has nothing (a new field, a new list item, a
//! replaced list or map) is taken as it is, minus what only makes sense in a patch: directives
//! are obeyed (a `$patch: delete` map disappears, a `$patch: replace` map is its content) and
//! removed, and `null` members are dropped. A real server leaves that to its typed decoding;
//! k2d stores JSON, so it does it here.

use serde_json::{Map, Value};

use super::directive::{
    DELETE_FROM_PRIMITIVE_LIST, PATCH, PatchDirective, RETAIN_KEYS, SET_ELEMENT_ORDER,
    is_directive, target_field,
};
use super::failure::unknown_directive;
use super::schema::Shape;
use crate::api::patch::error::PatchError;

/// `value` ready to be stored at a position of this shape; `None` when nothing is to be
/// stored (`null`, or a map marked `$patch: delete`).
pub(super) fn clean_value(value: Value, shape: Shape) -> Result<Option<Value>, PatchError> {
    match value {
        Value::Null => Ok(None),
        Value::Object(map) => Ok(clean_map(map, shape)?.map(Value::Object)),
        Value::Array(items) => Ok(Some(Value::Array(clean_list(items, shape.element())?))),
        scalar => Ok(Some(scalar)),
    }
}

/// A map ready to be stored; `None` when it is marked `$patch: delete`.
pub(super) fn clean_map(
    mut map: Map<String, Value>,
    shape: Shape,
) -> Result<Option<Map<String, Value>>, PatchError> {
    if let Some(directive) = map.get(PATCH) {
        match PatchDirective::of_map(directive, &map)? {
            PatchDirective::Delete => return Ok(None),
            PatchDirective::Replace => {
                map.remove(PATCH);
            }
        }
    }
    let mut out = Map::new();
    for (key, value) in map {
        if key == RETAIN_KEYS
            || target_field(&key, SET_ELEMENT_ORDER)?.is_some()
            || target_field(&key, DELETE_FROM_PRIMITIVE_LIST)?.is_some()
        {
            continue;
        }
        if is_directive(&key) && shape.lacks_field(&key) {
            return Err(unknown_directive(&key));
        }
        let field = shape.field(&key);
        if let Some(value) = clean_value(value, field.shape)? {
            out.insert(key, value);
        }
    }
    Ok(Some(out))
}

/// List items ready to be stored: items carrying `$patch` (a `replace` marker, a `delete`
/// order) are dropped, the others cleaned. `null` items stay.
pub(super) fn clean_list(items: Vec<Value>, element: Shape) -> Result<Vec<Value>, PatchError> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::Object(map) => {
                if let Some(directive) = map.get(PATCH) {
                    PatchDirective::of_item(directive, &map)?;
                    continue;
                }
                if let Some(map) = clean_map(map, element)? {
                    out.push(Value::Object(map));
                }
            }
            Value::Null => out.push(Value::Null),
            other => {
                if let Some(v) = clean_value(other, element)? {
                    out.push(v);
                }
            }
        }
    }
    Ok(out)
}
