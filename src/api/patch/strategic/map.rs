//! Merging a map: directives first (`$patch`, `$retainKeys`, `$setElementOrder/…`), then each
//! member: `null` deletes, maps merge (unless the field's strategy is `replace`), lists merge
//! or are replaced per the field's strategy, anything else replaces.

use serde_json::{Map, Value};

use super::clean::{clean_list, clean_map, clean_value};
use super::directive::{
    DELETE_FROM_PRIMITIVE_LIST, PATCH, PatchDirective, RETAIN_KEYS, SET_ELEMENT_ORDER,
    is_directive, target_field,
};
use super::failure::{LIST, bad_arg_type, bad_primitive_list, bad_retain_keys, unknown_directive};
use super::list::merge_list;
use super::order::{check_order, normalize, require_keys};
use super::schema::Shape;
use crate::api::patch::error::PatchError;

type Object = Map<String, Value>;

/// Merges `patch` into `original`, a map of this shape.
pub(super) fn merge_map(
    mut original: Object,
    mut patch: Object,
    shape: Shape,
) -> Result<Object, PatchError> {
    if let Some(directive) = patch.get(PATCH) {
        return match PatchDirective::of_map(directive, &patch)? {
            PatchDirective::Delete => Ok(Object::new()),
            PatchDirective::Replace => {
                patch.remove(PATCH);
                Ok(clean_map(patch, shape)?.unwrap_or_default())
            }
        };
    }
    retain_keys(&mut original, &mut patch)?;
    set_element_orders(&mut original, &mut patch, shape)?;
    for (key, value) in patch {
        merge_member(&mut original, key, value, shape)?;
    }
    Ok(original)
}

/// `$retainKeys`: the original keeps only the listed keys; the patch may set no other key.
fn retain_keys(original: &mut Object, patch: &mut Object) -> Result<(), PatchError> {
    let Some(listed) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(listed) = listed else {
        return Err(bad_retain_keys());
    };
    let kept = |key: &str| listed.iter().any(|k| k.as_str() == Some(key));
    for (key, value) in patch.iter() {
        if value.is_null()
            || target_field(key, DELETE_FROM_PRIMITIVE_LIST)?.is_some()
            || target_field(key, SET_ELEMENT_ORDER)?.is_some()
        {
            continue;
        }
        if !kept(key) {
            return Err(bad_retain_keys());
        }
    }
    original.retain(|key, _| kept(key));
    Ok(())
}

/// `$setElementOrder/<field>`: merges the patch list of `<field>` (if any) into the original
/// and orders the result as the directive says, keeping items only the original has.
fn set_element_orders(
    original: &mut Object,
    patch: &mut Object,
    shape: Shape,
) -> Result<(), PatchError> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for directive_key in keys {
        let order = patch.remove(&directive_key).expect("listed above");
        let field = target_field(&directive_key, SET_ELEMENT_ORDER)?
            .expect("starts with the prefix")
            .to_string();
        let Value::Array(order) = order else {
            return Err(bad_arg_type(LIST, &order));
        };
        let meta = shape.field(&field);
        let current = match original.get(&field) {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(items.clone()),
            Some(other) => return Err(bad_arg_type(LIST, other)),
        };
        let update = match patch.remove(&field) {
            None => None,
            Some(Value::Array(items)) => Some(items),
            Some(other) => return Err(bad_arg_type(LIST, &other)),
        };
        check_order(
            update.as_deref().unwrap_or_default(),
            &order,
            meta.merge_key,
        )?;
        let server_order = current.clone().unwrap_or_default();
        let merged = match (current, update) {
            (None, None) => continue,
            (Some(items), None) => items,
            (None, Some(items)) => clean_list(items, meta.shape.element())?,
            (Some(items), Some(update)) if meta.merge => {
                merge_list(items, update, meta, false, &field)?
            }
            (Some(_), Some(update)) => clean_list(update, meta.shape.element())?,
        };
        require_keys(&merged, meta.merge_key)?;
        require_keys(&order, meta.merge_key)?;
        let ordered = normalize(merged, &order, &server_order, meta.merge_key);
        original.insert(field, Value::Array(ordered));
    }
    Ok(())
}

/// Merges one member of the patch into the original.
fn merge_member(
    original: &mut Object,
    key: String,
    value: Value,
    shape: Shape,
) -> Result<(), PatchError> {
    let (field, delete_list) = match target_field(&key, DELETE_FROM_PRIMITIVE_LIST)? {
        Some(field) => (field.to_string(), true),
        None if is_directive(&key) && shape.lacks_field(&key) => {
            return Err(unknown_directive(&key));
        }
        None => (key, false),
    };
    if value.is_null() {
        original.remove(&field);
        return Ok(());
    }
    if delete_list && !value.is_array() {
        return Err(bad_primitive_list());
    }
    let meta = shape.field(&field);
    let current = original.remove(&field).unwrap_or(Value::Null);
    let merged = match (current, value) {
        (Value::Null, _) if delete_list => None,
        (Value::Object(current), Value::Object(update)) if !meta.replace => {
            Some(Value::Object(merge_map(current, update, meta.shape)?))
        }
        (Value::Array(current), Value::Array(update)) if meta.merge || delete_list => Some(
            Value::Array(merge_list(current, update, meta, delete_list, &field)?),
        ),
        (current, _) if delete_list => Some(current),
        (_, value) => clean_value(value, meta.shape)?,
    };
    if let Some(merged) = merged {
        original.insert(field, merged);
    }
    Ok(())
}
