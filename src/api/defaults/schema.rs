//! Defaults read from the served OpenAPI schemas (the generated schema model), for every
//! resource in `spec/`, including those added later:
//!
//! - declarative defaults (`+default=` in the Go types), such as `protocol: TCP` of container and
//!   Service ports;
//! - `{}` for fields that are non-pointer structs in the Go types: the real server always
//!   serialises them (`resources: {}` of containers, `metadata: {}` of templates, `status: {}`,
//!   `status.loadBalancer: {}` of Services).
//!
//! Defaults that equal a zero value (`""`, `0`, `false`) are not applied: the schemas carry them
//! both for fields the Go types always serialise and for optional fields they omit when empty,
//! and only the Go types tell the two apart (the hand-written defaulters add the ones that
//! matter).

use serde_json::Value;

use super::fields::{Object, is_unset};
use crate::api::model::Ty;
use crate::generated::{RESOURCES, SCHEMAS};

/// The schema of the objects of a resource. Where a group serves the resource in several
/// versions, the version in the object's `apiVersion` picks one (else the first served).
pub fn schema_of(group: &str, resource: &str, obj: &Object) -> Option<usize> {
    let version = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .map(|v| v.rsplit('/').next().unwrap_or(v));
    let mut candidates = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.name == resource);
    let first = candidates.clone().next()?;
    candidates
        .find(|r| Some(r.version) == version)
        .unwrap_or(first)
        .schema
}

/// Fills in the schema defaults of an object of this schema, and of every object in it.
pub fn fill(obj: &mut Object, schema: usize) {
    let Some(schema) = SCHEMAS.get(schema) else {
        return;
    };
    for field in schema.fields {
        if is_unset(obj.get(field.name))
            && let Some(value) = applied_default(field.default)
        {
            obj.insert(field.name.to_string(), value);
        }
        if let Some(value) = obj.get_mut(field.name) {
            descend(value, &field.ty);
        }
    }
}

fn descend(value: &mut Value, ty: &Ty) {
    match (ty, value) {
        (Ty::Object(schema), Value::Object(obj)) => fill(obj, *schema),
        (Ty::Array(item), Value::Array(items)) => {
            for v in items {
                descend(v, item);
            }
        }
        (Ty::Map(item), Value::Object(entries)) => {
            for v in entries.values_mut() {
                descend(v, item);
            }
        }
        _ => {}
    }
}

/// The value a schema default puts in an object, if any (see the module documentation).
fn applied_default(default: &str) -> Option<Value> {
    if default.is_empty() {
        return None;
    }
    let value: Value = serde_json::from_str(default).ok()?;
    let zero = match &value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Array(items) => items.is_empty(),
        Value::Object(_) => false,
    };
    (!zero).then_some(value)
}

/// Whether the schema defaults can change an object of this schema (a `metadata: {}` at the
/// top, which every stored object has, does not count).
pub fn has_defaults(schema: usize) -> bool {
    let mut seen = vec![false; SCHEMAS.len()];
    SCHEMAS.get(schema).is_some_and(|s| {
        s.fields
            .iter()
            .filter(|f| f.name != "metadata")
            .any(|f| field_has_defaults(f.default, &f.ty, &mut seen))
    })
}

fn field_has_defaults(default: &str, ty: &Ty, seen: &mut [bool]) -> bool {
    applied_default(default).is_some() || type_has_defaults(ty, seen)
}

fn type_has_defaults(ty: &Ty, seen: &mut [bool]) -> bool {
    match ty {
        Ty::Object(i) => {
            if seen.get(*i).copied().unwrap_or(true) {
                return false;
            }
            seen[*i] = true;
            SCHEMAS[*i]
                .fields
                .iter()
                .any(|f| field_has_defaults(f.default, &f.ty, seen))
        }
        Ty::Array(item) | Ty::Map(item) => type_has_defaults(item, seen),
        _ => false,
    }
}
