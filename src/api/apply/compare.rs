//! What changed between two versions of an object: the paths added, modified and removed.
//!
//! The real server compares Go objects, in which non-pointer structs are always present (`{}`)
//! and required lists, maps and pointers are present as `null`. The comparison sees stored
//! objects the same way (see `schema_facts`), so that an entry's `"."` markers come out as a
//! real server writes them.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::field_set::FieldSet;
use super::list_item;
use super::path::{Path, PathElement};
use super::schema_facts;
use super::shape::Shape;
use crate::api::model::Ty;
use crate::generated::SCHEMAS;

/// Paths that differ between an old and a new value.
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    /// Present only in the new value.
    pub added: FieldSet,
    /// Leaves whose value changed.
    pub modified: FieldSet,
    /// Present only in the old value.
    pub removed: FieldSet,
}

impl Comparison {
    /// `true` when the two values are the same.
    pub fn is_same(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }

    /// Added or modified paths.
    pub fn changed(&self) -> FieldSet {
        self.added.union(&self.modified)
    }

    /// The comparison with every set passed through `f`.
    pub fn map(&self, f: impl Fn(&FieldSet) -> FieldSet) -> Comparison {
        Comparison {
            added: f(&self.added),
            modified: f(&self.modified),
            removed: f(&self.removed),
        }
    }
}

/// Compares `old` with `new`, both values of this shape.
pub fn compare(old: &Value, new: &Value, shape: Shape) -> Result<Comparison, String> {
    let mut c = Comparison::default();
    walk(Some(old), Some(new), shape, &mut Vec::new(), &mut c)?;
    Ok(c)
}

static EMPTY_OBJECT: LazyLock<Value> = LazyLock::new(|| Value::Object(Map::new()));
static NULL: Value = Value::Null;

fn is_empty_container(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    }
}

fn fits_object(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null) | Some(Value::Object(_)))
}

fn fits_list(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null) | Some(Value::Array(_)))
}

fn walk(
    l: Option<&Value>,
    r: Option<&Value>,
    shape: Shape,
    path: &mut Vec<PathElement>,
    c: &mut Comparison,
) -> Result<(), String> {
    let promoted_to_leaf = is_empty_container(l) && is_empty_container(r);
    let granular = !promoted_to_leaf
        && match shape {
            Shape::Struct(_) | Shape::Map(_) | Shape::Deduced => fits_object(l) && fits_object(r),
            Shape::List(..) => fits_list(l) && fits_list(r),
            Shape::Atomic => false,
        };
    if !granular {
        match (l, r) {
            (None, _) => c.added.insert(path),
            (_, None) => c.removed.insert(path),
            (Some(a), Some(b)) if a != b => c.modified.insert(path),
            _ => {}
        }
        return Ok(());
    }
    if matches!(shape, Shape::List(..)) {
        let li = index_items(l, shape, path)?;
        let ri = index_items(r, shape, path)?;
        let mut pes: Vec<&PathElement> = li.keys().chain(ri.keys()).collect();
        pes.sort();
        pes.dedup();
        for pe in pes {
            path.push(pe.clone());
            walk(
                li.get(pe).copied(),
                ri.get(pe).copied(),
                shape.item(),
                path,
                c,
            )?;
            path.pop();
        }
    } else {
        let lm = l.and_then(Value::as_object);
        let rm = r.and_then(Value::as_object);
        let mut keys: Vec<&str> = lm
            .into_iter()
            .chain(rm)
            .flat_map(|m| m.keys().map(String::as_str))
            .collect();
        if let Shape::Struct(i) = shape {
            keys.extend(
                SCHEMAS[i]
                    .fields
                    .iter()
                    .filter(|f| zero_value(i, f.name).is_some())
                    .map(|f| f.name),
            );
        }
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            let (child_shape, _) = shape.child(k);
            let lv = member(lm, shape, k);
            let rv = member(rm, shape, k);
            if lv.is_none() && rv.is_none() {
                continue;
            }
            path.push(PathElement::field(k));
            walk(lv, rv, child_shape, path, c)?;
            path.pop();
        }
    }
    match (l, r) {
        (None, _) => c.added.insert(path),
        (_, None) => c.removed.insert(path),
        _ => {}
    }
    Ok(())
}

/// A member of an object as the real server's Go object would have it: a struct field
/// holds its zero value when absent, and `null` only where the zero value is `null` (a
/// `null` string or number decodes to an omitted zero value).
fn member<'a>(m: Option<&'a Map<String, Value>>, shape: Shape, key: &str) -> Option<&'a Value> {
    let m = m?;
    match shape {
        Shape::Struct(i) => match m.get(key) {
            Some(v) if !v.is_null() => Some(v),
            _ => zero_value(i, key),
        },
        _ => m.get(key),
    }
}

/// The value a Go object always has for a field the JSON leaves out: `{}` for a non-pointer
/// struct, `null` for a required list, map or pointer.
fn zero_value(schema: usize, field: &str) -> Option<&'static Value> {
    if schema_facts::has_empty_object_default(schema, field) {
        return Some(&EMPTY_OBJECT);
    }
    let f = SCHEMAS[schema].field(field)?;
    (f.required && matches!(f.ty, Ty::Object(_) | Ty::Array(_) | Ty::Map(_))).then_some(&NULL)
}

fn index_items<'a>(
    v: Option<&'a Value>,
    shape: Shape,
    path: &[PathElement],
) -> Result<BTreeMap<PathElement, &'a Value>, String> {
    let mut out = BTreeMap::new();
    let (Some(Value::Array(items)), Shape::List(ty, keys)) = (v, shape) else {
        return Ok(out);
    };
    for (i, item) in items.iter().enumerate() {
        let pe = list_item::element(keys, ty, item)
            .map_err(|e| format!("{}: element {i}: {e}", Path(path.to_vec())))?;
        out.entry(pe).or_insert(item);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::apply::fields_v1::to_json_string;
    use crate::generated::schema_index;
    use serde_json::json;

    fn deployment() -> Shape {
        Shape::root(schema_index("io.k8s.api.apps.v1.Deployment"))
    }

    #[test]
    fn a_scale_modifies_one_leaf() {
        let old =
            json!({"spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "a"}]}}}});
        let mut new = old.clone();
        new["spec"]["replicas"] = json!(4);
        let c = compare(&old, &new, deployment()).unwrap();
        assert_eq!(
            to_json_string(&c.modified),
            r#"{"f:spec":{"f:replicas":{}}}"#
        );
        assert!(c.added.is_empty() && c.removed.is_empty());
    }

    #[test]
    fn new_nodes_are_added_with_their_children() {
        let old = json!({});
        let new = json!({"metadata": {"labels": {"a": "b"}}, "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "i"}]}}}});
        let c = compare(&old, &new, deployment()).unwrap();
        assert_eq!(
            to_json_string(&c.added),
            r#"{"f:metadata":{"f:labels":{".":{},"f:a":{}}},"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"a\"}":{".":{},"f:image":{},"f:name":{},"f:resources":{}}}}}}}"#
        );
        let back = compare(&new, &old, deployment()).unwrap();
        assert_eq!(
            to_json_string(&back.removed),
            to_json_string(&c.added),
            "removal mirrors addition"
        );
    }

    #[test]
    fn items_compare_by_key_not_position() {
        let old =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}}});
        let new =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "b"}, {"name": "a"}]}}}});
        assert!(compare(&old, &new, deployment()).unwrap().is_same());
    }
}
