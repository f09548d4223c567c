//! Merging an applied configuration into the live object: structs and granular maps member by
//! member, associative lists item by item (matched by key), everything else replaced.
//!
//! List order follows Kubernetes: items of the configuration come in its order, live items it
//! does not mention stay where they were relative to their neighbours. A `null` in the
//! configuration removes the value (a Go object cannot hold it), except that `null` for a
//! non-empty struct, map or list keeps the live content, as the real server does.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::list_item;
use super::path::{Path, PathElement};
use super::shape::Shape;

/// `config` merged into `live`, both values of this shape.
pub fn merge(live: &Value, config: &Value, shape: Shape) -> Result<Value, String> {
    Ok(merge_node(Some(live), config, shape, &mut Vec::new())?.unwrap_or(Value::Null))
}

/// A copy of `v` without `null` members; `None` for `null` itself.
pub fn without_nulls(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Object(m) => Some(Value::Object(
            m.iter()
                .filter_map(|(k, v)| without_nulls(v).map(|v| (k.clone(), v)))
                .collect(),
        )),
        Value::Array(items) => Some(Value::Array(
            items.iter().filter_map(without_nulls).collect(),
        )),
        v => Some(v.clone()),
    }
}

fn merge_node(
    live: Option<&Value>,
    config: &Value,
    shape: Shape,
    path: &mut Vec<PathElement>,
) -> Result<Option<Value>, String> {
    let Some(live) = live else {
        return Ok(without_nulls(config));
    };
    match config {
        Value::Null => {
            let keep = match live {
                Value::Object(m) => !m.is_empty() && shape.is_granular_object(live),
                Value::Array(a) => !a.is_empty() && shape.is_granular_list(live),
                _ => false,
            };
            Ok(keep.then(|| live.clone()))
        }
        Value::Object(cm) if shape.is_granular_object(live) => {
            let mut out = live.as_object().cloned().unwrap_or_default();
            for (k, cv) in cm {
                let (child_shape, _) = shape.child(k);
                path.push(PathElement::field(k));
                let merged = merge_node(out.get(k), cv, child_shape, path)?;
                path.pop();
                match merged {
                    Some(v) => {
                        out.insert(k.clone(), v);
                    }
                    None => {
                        out.remove(k);
                    }
                }
            }
            Ok(Some(Value::Object(out)))
        }
        Value::Array(ci) if shape.is_granular_list(live) => {
            let li = live.as_array().map(Vec::as_slice).unwrap_or_default();
            merge_list(li, ci, shape, path).map(|v| Some(Value::Array(v)))
        }
        _ => Ok(without_nulls(config)),
    }
}

fn elements(
    items: &[Value],
    shape: Shape,
    path: &[PathElement],
) -> Result<Vec<PathElement>, String> {
    let Shape::List(ty, keys) = shape else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            list_item::element(keys, ty, item)
                .map_err(|e| format!("{}: element {i}: {e}", Path(path.to_vec())))
        })
        .collect()
}

/// Merges two associative lists. Walks both: a live item the configuration does not name is
/// kept in place; a live item it names waits until the configuration reaches it (unless it is
/// the next shared item); configuration items come in configuration order.
fn merge_list(
    live: &[Value],
    config: &[Value],
    shape: Shape,
    path: &mut Vec<PathElement>,
) -> Result<Vec<Value>, String> {
    let lpes = elements(live, shape, path)?;
    let cpes = elements(config, shape, path)?;
    let mut lindex: BTreeMap<&PathElement, usize> = BTreeMap::new();
    for (i, pe) in lpes.iter().enumerate() {
        lindex.entry(pe).or_insert(i);
    }
    let cset: BTreeSet<&PathElement> = cpes.iter().collect();
    let shared: Vec<&PathElement> = cpes.iter().filter(|pe| lindex.contains_key(pe)).collect();
    let mut next_shared = 0;
    let mut emitted: BTreeSet<&PathElement> = BTreeSet::new();
    let mut out = Vec::with_capacity(live.len().max(config.len()));
    let (mut li, mut ci) = (0, 0);
    let item_shape = shape.item();
    let mut merge_item = |l: Option<&Value>, c: &Value, pe: &PathElement, out: &mut Vec<Value>| {
        path.push(pe.clone());
        let merged = merge_node(l, c, item_shape, path);
        path.pop();
        if let Some(v) = merged? {
            out.push(v);
        }
        Ok::<(), String>(())
    };
    while li < live.len() || ci < config.len() {
        if li < live.len() && ci < config.len() {
            if lpes[li] == cpes[ci] {
                merge_item(Some(&live[li]), &config[ci], &cpes[ci], &mut out)?;
                emitted.insert(&cpes[ci]);
                li += 1;
                ci += 1;
                next_shared += 1;
                continue;
            }
            let waiting = shared.get(next_shared).is_some_and(|pe| **pe != lpes[li]);
            if cset.contains(&lpes[li]) && waiting {
                li += 1;
                continue;
            }
        }
        if li < live.len() {
            if !cset.contains(&lpes[li]) {
                out.push(live[li].clone());
                li += 1;
                continue;
            }
            if emitted.contains(&lpes[li]) || ci >= config.len() {
                li += 1;
                continue;
            }
        }
        if ci < config.len() {
            let pe = &cpes[ci];
            let l = lindex.get(pe).map(|i| &live[*i]);
            merge_item(l, &config[ci], pe, &mut out)?;
            emitted.insert(pe);
            if shared.get(next_shared) == Some(&pe) {
                next_shared += 1;
            }
            ci += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::schema_index;
    use serde_json::json;

    fn pod_spec() -> Shape {
        Shape::root(schema_index("io.k8s.api.core.v1.PodSpec"))
    }

    fn names(v: &Value) -> Vec<&str> {
        v["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect()
    }

    fn containers(names: &[&str]) -> Value {
        json!({"containers": names.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()})
    }

    #[test]
    fn lists_merge_by_key_keeping_positions() {
        let cases: &[(&[&str], &[&str], &[&str])] = &[
            (&["a", "b", "c"], &["c", "a"], &["b", "c", "a"]),
            (&["a", "x", "b"], &["b", "y", "a"], &["x", "b", "y", "a"]),
            (&["a", "x"], &["a", "y"], &["a", "x", "y"]),
            (&["a"], &["b"], &["a", "b"]),
            (&[], &["b", "a"], &["b", "a"]),
        ];
        for (live, config, want) in cases {
            let out = merge(&containers(live), &containers(config), pod_spec()).unwrap();
            assert_eq!(names(&out), *want, "live {live:?} config {config:?}");
        }
    }

    #[test]
    fn items_merge_field_by_field_and_atomic_values_are_replaced() {
        let live = json!({"containers": [{"name": "a", "image": "x", "args": ["1", "2"], "env": [{"name": "E", "value": "1"}]}]});
        let config = json!({"containers": [{"name": "a", "args": ["3"], "env": [{"name": "F", "value": "2"}]}]});
        let out = merge(&live, &config, pod_spec()).unwrap();
        assert_eq!(
            out,
            json!({"containers": [{"name": "a", "image": "x", "args": ["3"],
                "env": [{"name": "E", "value": "1"}, {"name": "F", "value": "2"}]}]})
        );
    }

    #[test]
    fn nulls_remove_scalars_but_keep_structs() {
        let live = json!({"hostname": "h", "securityContext": {"runAsUser": 1}});
        let config = json!({"hostname": null, "securityContext": null, "subdomain": null});
        let out = merge(&live, &config, pod_spec()).unwrap();
        assert_eq!(out, json!({"securityContext": {"runAsUser": 1}}));
    }
}
