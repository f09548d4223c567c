//! Removal of what a manager stops applying: a field, map key or list item is removed when the
//! manager's previous apply set it, and nobody (not another manager, not the new
//! configuration) owns it now.
//!
//! Ownership of anything inside a struct field counts as ownership of the field itself, as in
//! Kubernetes; it does not extend to map keys or list items, which are owned only as members.

use serde_json::Value;

use super::field_set::FieldSet;
use super::list_item;
use super::path::PathElement;
use super::shape::Shape;

/// `set` plus, as members, the struct fields that have members below them.
pub fn with_named_fields(set: &FieldSet, shape: Shape) -> FieldSet {
    let mut out = FieldSet::new();
    for pe in set.members() {
        out.insert_member(pe.clone());
    }
    for (pe, child) in set.children() {
        let child_shape = match (shape, pe) {
            (Shape::List(..), _) => shape.item(),
            (_, PathElement::Field(name)) => {
                let (s, declared) = shape.child(name);
                if declared {
                    out.insert_member(pe.clone());
                }
                s
            }
            _ => Shape::Atomic,
        };
        out.insert_child(pe.clone(), with_named_fields(child, child_shape));
    }
    out
}

/// Removes from `merged` what `last` (the manager's previous apply) set and `owned` (everybody's
/// sets now, the new configuration's included) does not.
pub fn prune(merged: &mut Value, shape: Shape, last: &FieldSet, owned: &FieldSet) {
    let last = with_named_fields(last, shape);
    let owned = with_named_fields(owned, shape);
    walk(merged, shape, &last, &owned);
}

fn doomed(pe: &PathElement, last: &FieldSet, owned: &FieldSet) -> bool {
    last.has_member(pe) && !owned.has_member(pe)
}

/// Prunes below `v`; `true` when `v` was emptied by the removals (the real server then drops it).
fn walk(v: &mut Value, shape: Shape, last: &FieldSet, owned: &FieldSet) -> bool {
    let none = FieldSet::new();
    match v {
        Value::Object(m) if matches!(shape, Shape::Struct(_) | Shape::Map(_) | Shape::Deduced) => {
            let before = m.len();
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                let pe = PathElement::Field(k.clone());
                if doomed(&pe, last, owned) {
                    m.remove(&k);
                    continue;
                }
                let Some(below) = last.child(&pe) else {
                    continue;
                };
                let (child_shape, _) = shape.child(&k);
                let child = m.get_mut(&k).expect("key listed above");
                if walk(child, child_shape, below, owned.child(&pe).unwrap_or(&none)) {
                    m.remove(&k);
                }
            }
            before > 0 && m.is_empty()
        }
        Value::Array(items) => {
            let Shape::List(ty, keys) = shape else {
                return false;
            };
            let before = items.len();
            let item_shape = shape.item();
            items.retain_mut(|item| {
                let Ok(pe) = list_item::element(keys, ty, item) else {
                    return true;
                };
                if doomed(&pe, last, owned) {
                    return false;
                }
                if let Some(below) = last.child(&pe)
                    && walk(item, item_shape, below, owned.child(&pe).unwrap_or(&none))
                {
                    return false;
                }
                true
            });
            before > 0 && items.is_empty()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::apply::applied_fields::applied_fields;
    use crate::generated::schema_index;
    use serde_json::json;

    fn deployment() -> Shape {
        Shape::root(schema_index("io.k8s.api.apps.v1.Deployment"))
    }

    #[test]
    fn removes_what_only_the_last_apply_set() {
        let shape = deployment();
        let old_config = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"replicas": 2, "paused": true}});
        let new_config = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"replicas": 2}});
        let last = applied_fields(&old_config, shape).unwrap();
        let owned = applied_fields(&new_config, shape).unwrap();
        let mut merged = json!({"metadata": {"name": "x", "labels": {"a": "1", "b": "2", "c": "3"}}, "spec": {"replicas": 2, "paused": true, "minReadySeconds": 5}});
        prune(&mut merged, shape, &last, &owned);
        assert_eq!(
            merged,
            json!({"metadata": {"name": "x", "labels": {"a": "1", "c": "3"}}, "spec": {"replicas": 2, "minReadySeconds": 5}})
        );
    }

    #[test]
    fn a_struct_field_goes_when_nobody_owns_anything_in_it() {
        let shape = deployment();
        let last =
            applied_fields(&json!({"spec": {"strategy": {"type": "Recreate"}}}), shape).unwrap();
        let owned = applied_fields(&json!({"spec": {"replicas": 1}}), shape).unwrap();
        let mut merged =
            json!({"spec": {"replicas": 1, "strategy": {"type": "Recreate", "rollingUpdate": {}}}});
        prune(&mut merged, shape, &last, &owned);
        assert_eq!(merged, json!({"spec": {"replicas": 1}}));
    }

    #[test]
    fn an_emptied_map_is_dropped() {
        let shape = deployment();
        let last = applied_fields(&json!({"metadata": {"labels": {"a": "1"}}}), shape).unwrap();
        let owned = applied_fields(
            &json!({"metadata": {"name": "n", "labels": {"z": "9"}}}),
            shape,
        )
        .unwrap();
        let mut merged = json!({"metadata": {"name": "n", "labels": {"a": "1"}}});
        prune(&mut merged, shape, &last, &owned);
        assert_eq!(merged, json!({"metadata": {"name": "n"}}));
    }

    #[test]
    fn metadata_stays_while_the_configuration_names_the_object() {
        let shape = deployment();
        let last = applied_fields(&json!({"metadata": {"labels": {"a": "1"}}}), shape).unwrap();
        let owned = applied_fields(&json!({"metadata": {"name": "n"}}), shape).unwrap();
        let mut merged = json!({"metadata": {"name": "n", "uid": "u", "labels": {"a": "1"}}});
        prune(&mut merged, shape, &last, &owned);
        assert_eq!(merged, json!({"metadata": {"name": "n", "uid": "u"}}));
    }
}
