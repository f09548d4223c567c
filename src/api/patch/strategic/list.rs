//! Merging a list whose field has `patchStrategy: merge` (or a `$deleteFromPrimitiveList`).
//!
//! Lists of objects merge item by item on the merge key: an item of the patch updates the
//! original item with the same key (recursively), or is added; `{"$patch":"delete", <key>: v}`
//! removes the items with that key; a `{"$patch":"replace"}` item makes the rest of the patch
//! list the whole list. Lists of primitives are a union. The result is ordered by
//! [`super::order::normalize`].

use serde_json::Value;

use super::clean::{clean_list, clean_value};
use super::directive::{PATCH, PatchDirective};
use super::failure::{
    bad_primitive_list, list_of_lists, mixed_items, no_merge_key, no_merge_key_declared,
};
use super::map::merge_map;
use super::order::{keyed, normalize, require_keys};
use super::schema::FieldMeta;
use crate::api::patch::error::PatchError;

/// Merges `patch` into `original`, the list of the field `field` described by `meta`. With
/// `delete_list`, `patch` holds the values to remove (`$deleteFromPrimitiveList/<field>`).
pub(super) fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    meta: FieldMeta,
    delete_list: bool,
    field: &str,
) -> Result<Vec<Value>, PatchError> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    if !items_are_objects(&original, &patch)? {
        return Ok(merge_primitives(original, &patch, delete_list));
    }
    if delete_list {
        return Err(bad_primitive_list());
    }
    let key = meta.merge_key;
    if key.is_empty() {
        return Err(no_merge_key_declared(field));
    }
    let element = meta.shape.element();

    let (original, items, replace) = split_directives(original, patch, key)?;
    if replace {
        let list = clean_list(items, element)?;
        require_keys(&list, key)?;
        return Ok(list);
    }

    let mut merged = original.clone();
    for item in &items {
        let id = keyed(item, key)?;
        match merged.iter().position(|m| m.get(key) == Some(id)) {
            Some(i) => {
                let (Value::Object(current), Value::Object(update)) = (merged[i].take(), item)
                else {
                    unreachable!("both lists hold only objects");
                };
                merged[i] = Value::Object(merge_map(current, update.clone(), element)?);
            }
            None => merged.extend(clean_value(item.clone(), element)?),
        }
    }
    require_keys(&merged, key)?;
    Ok(normalize(merged, &items, &original, key))
}

/// Whether the items (original and patch together) are objects; they must all be of one JSON
/// type, and not lists.
fn items_are_objects(original: &[Value], patch: &[Value]) -> Result<bool, PatchError> {
    let mut all = original.iter().chain(patch);
    let first = all.next().expect("one of the lists is not empty");
    if first.is_array() {
        return Err(list_of_lists());
    }
    let kind = std::mem::discriminant(first);
    if all.any(|v| std::mem::discriminant(v) != kind) {
        return Err(mixed_items(original, patch));
    }
    Ok(first.is_object())
}

/// A list of primitives: the union of both (each value once), or the original without the
/// values of a `$deleteFromPrimitiveList`.
fn merge_primitives(original: Vec<Value>, patch: &[Value], delete_list: bool) -> Vec<Value> {
    if delete_list {
        return original
            .into_iter()
            .filter(|v| !patch.contains(v))
            .collect();
    }
    let mut merged: Vec<Value> = Vec::with_capacity(original.len() + patch.len());
    for v in original.iter().chain(patch) {
        if !merged.contains(v) {
            merged.push(v.clone());
        }
    }
    normalize(merged, patch, &original, "")
}

/// Obeys the `$patch` items of a patch list: `delete` removes the original items with that
/// merge key, `replace` means the other patch items are the whole list. Returns the original
/// after deletions, the other patch items, and whether to replace.
fn split_directives(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
) -> Result<(Vec<Value>, Vec<Value>, bool), PatchError> {
    let mut items = Vec::with_capacity(patch.len());
    let mut replace = false;
    for item in patch {
        let Some(directive) = item.get(PATCH) else {
            items.push(item);
            continue;
        };
        let map = item.as_object().expect("list items are objects");
        match PatchDirective::of_item(directive, map)? {
            PatchDirective::Replace => replace = true,
            PatchDirective::Delete => {
                let id = map.get(key).ok_or_else(|| no_merge_key(&item, key))?;
                original.retain(|v| v.get(key) != Some(id));
            }
        }
    }
    Ok((original, items, replace))
}
