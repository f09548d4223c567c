//! The `FieldsV1` format of `metadata.managedFields[].fieldsV1`: a JSON tree whose keys are
//! `f:<field>`, `k:<key fields as a JSON object>`, `v:<value as JSON>` or `i:<index>`, whose
//! leaves are `{}`, and where `".": {}` marks an element that is itself a member while also
//! having members below it.

use serde_json::{Map, Value};

use super::field_set::FieldSet;
use super::go_json;
use super::path::PathElement;

/// The text of a path element as a `fieldsV1` key (`f:image`, `k:{"name":"nginx"}`).
pub fn element_key(pe: &PathElement) -> String {
    let mut out = String::new();
    match pe {
        PathElement::Field(name) => {
            out.push_str("f:");
            out.push_str(name);
        }
        PathElement::Key(fields) => {
            out.push_str("k:{");
            for (i, (name, value)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json::write_string(&mut out, name);
                out.push(':');
                go_json::write_value(&mut out, value);
            }
            out.push('}');
        }
        PathElement::Value(v) => {
            out.push_str("v:");
            go_json::write_value(&mut out, v);
        }
        PathElement::Index(i) => {
            out.push_str("i:");
            out.push_str(&i.to_string());
        }
    }
    out
}

/// Parses a `fieldsV1` key back into a path element.
pub fn parse_element_key(key: &str) -> Result<PathElement, String> {
    let bad = || format!("invalid fieldsV1 key {key:?}");
    let (kind, rest) = key.split_at_checked(2).ok_or_else(bad)?;
    match kind {
        "f:" => Ok(PathElement::Field(rest.to_string())),
        "k:" => match serde_json::from_str::<Value>(rest) {
            Ok(Value::Object(m)) => Ok(PathElement::key(m.into_iter().collect())),
            _ => Err(bad()),
        },
        "v:" => serde_json::from_str(rest)
            .map(PathElement::Value)
            .map_err(|_| bad()),
        "i:" => rest.parse().map(PathElement::Index).map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// Elements of one level in order, each with whether it is a member and the set below it.
fn level(set: &FieldSet) -> Vec<(&PathElement, bool, Option<&FieldSet>)> {
    let mut out: Vec<(&PathElement, bool, Option<&FieldSet>)> =
        set.members().map(|pe| (pe, true, None)).collect();
    for (pe, child) in set.children() {
        match out.iter_mut().find(|(m, _, _)| *m == pe) {
            Some(entry) => entry.2 = Some(child),
            None => out.push((pe, false, Some(child))),
        }
    }
    out.sort_by(|a, b| a.0.cmp(b.0));
    out
}

/// The exact bytes the Kubernetes API server writes for this set.
pub fn to_json_string(set: &FieldSet) -> String {
    let mut out = String::from("{");
    write_level(&mut out, set, false);
    out.push('}');
    out
}

fn write_level(out: &mut String, set: &FieldSet, include_self: bool) {
    let mut first = true;
    let mut sep = |out: &mut String| {
        if !std::mem::take(&mut first) {
            out.push(',');
        }
    };
    if include_self && !set.is_empty() {
        sep(out);
        out.push_str("\".\":{}");
    }
    for (pe, member, child) in level(set) {
        sep(out);
        go_json::write_string(out, &element_key(pe));
        out.push(':');
        out.push('{');
        if let Some(child) = child {
            write_level(out, child, member);
        }
        out.push('}');
    }
}

/// The set as a `fieldsV1` JSON value.
pub fn to_value(set: &FieldSet) -> Value {
    Value::Object(level_value(set, false))
}

fn level_value(set: &FieldSet, include_self: bool) -> Map<String, Value> {
    let mut m = Map::new();
    if include_self && !set.is_empty() {
        m.insert(".".into(), Value::Object(Map::new()));
    }
    for (pe, member, child) in level(set) {
        let inner = match child {
            Some(child) => level_value(child, member),
            None => Map::new(),
        };
        m.insert(element_key(pe), Value::Object(inner));
    }
    m
}

/// Reads a `fieldsV1` JSON value.
pub fn from_value(v: &Value) -> Result<FieldSet, String> {
    let m = v.as_object().ok_or("fieldsV1 must be a JSON object")?;
    Ok(read_level(m)?.0)
}

/// The set below one level, and whether the level carries `"."`.
fn read_level(m: &Map<String, Value>) -> Result<(FieldSet, bool), String> {
    let mut set = FieldSet::new();
    let mut is_member = false;
    for (k, v) in m {
        if k == "." {
            is_member = true;
            continue;
        }
        let pe = parse_element_key(k)?;
        let inner = v
            .as_object()
            .ok_or_else(|| format!("fieldsV1 value at {k:?} must be an object"))?;
        if inner.is_empty() {
            set.insert_member(pe);
            continue;
        }
        let (child, member) = read_level(inner)?;
        if member {
            set.insert_member(pe.clone());
        }
        set.insert_child(pe, child);
    }
    Ok((set, is_member))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_and_writes_dots() {
        let text = r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:ports":{".":{},"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{}}},"f:selector":{}}}"#;
        let v: Value = serde_json::from_str(text).unwrap();
        let set = from_value(&v).unwrap();
        assert_eq!(to_json_string(&set), text);
        assert_eq!(to_value(&set), v);
    }

    #[test]
    fn numeric_keys_are_written_in_numeric_order() {
        let v = json!({
            "k:{\"containerPort\":443}": {},
            "k:{\"containerPort\":80}": {},
        });
        let set = from_value(&v).unwrap();
        assert_eq!(
            to_json_string(&set),
            r#"{"k:{\"containerPort\":80}":{},"k:{\"containerPort\":443}":{}}"#
        );
    }

    #[test]
    fn set_items_and_bad_keys() {
        let v = json!({"f:finalizers": {".": {}, "v:\"a\"": {}}});
        let set = from_value(&v).unwrap();
        assert!(set.contains(&[PathElement::field("finalizers")]));
        assert!(set.contains(&[
            PathElement::field("finalizers"),
            PathElement::Value(json!("a"))
        ]));
        assert!(from_value(&json!({"x:y": {}})).is_err());
        assert!(from_value(&json!([])).is_err());
    }
}
