//! Small helpers over JSON objects, named after the Go notion of "unset" each default uses: a
//! pointer field is unset when absent or `null`; a plain string, number or list is unset when it
//! also holds its zero value (`""`, `0`, `[]`).

use serde_json::{Map, Value};

/// A JSON object, as the defaulting functions take them.
pub type Object = Map<String, Value>;

/// `true` when the field is absent or `null` (a nil pointer in the Go types).
pub fn is_unset(value: Option<&Value>) -> bool {
    matches!(value, None | Some(Value::Null))
}

/// Sets `key` to `value` when it is absent or `null` (defaulting of a pointer field).
pub fn set_missing(obj: &mut Object, key: &str, value: Value) {
    if is_unset(obj.get(key)) {
        obj.insert(key.to_string(), value);
    }
}

/// Sets `key` to `value` when it is absent, `null` or `""` (defaulting of a plain string field).
pub fn set_blank(obj: &mut Object, key: &str, value: &str) {
    if is_unset(obj.get(key)) || obj.get(key).is_some_and(|v| v.as_str() == Some("")) {
        obj.insert(key.to_string(), Value::from(value));
    }
}

/// Sets `key` to `value` when it is absent, `null` or `0` (defaulting of a plain integer field).
pub fn set_zero(obj: &mut Object, key: &str, value: i64) {
    let zero = obj.get(key).is_some_and(|v| v.as_f64() == Some(0.0));
    if zero || is_unset(obj.get(key)) {
        obj.insert(key.to_string(), Value::from(value));
    }
}

/// `true` when the list is absent, `null` or empty (`len(x) == 0` in Go).
pub fn is_empty_list(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::Array(items)) => items.is_empty(),
        Some(_) => false,
    }
}

/// `true` when the map is absent, `null` or empty (`len(x) == 0` in Go).
pub fn is_empty_map(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::Object(entries)) => entries.is_empty(),
        Some(_) => false,
    }
}

/// The object under `key`, if there is one.
pub fn child<'a>(obj: &'a mut Object, key: &str) -> Option<&'a mut Object> {
    obj.get_mut(key).and_then(Value::as_object_mut)
}

/// The object under `key`, created empty when the field is absent or `null` (a struct the
/// defaulting function allocates). `None` when the field holds something else.
pub fn child_or_insert<'a>(obj: &'a mut Object, key: &str) -> Option<&'a mut Object> {
    if is_unset(obj.get(key)) {
        obj.insert(key.to_string(), Value::Object(Object::new()));
    }
    child(obj, key)
}

/// The objects of the list under `key` (items that are not objects are skipped).
pub fn items<'a>(obj: &'a mut Object, key: &str) -> impl Iterator<Item = &'a mut Object> {
    obj.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

/// The string under `key`, `""` when absent or not a string.
pub fn str_of<'a>(obj: &'a Object, key: &str) -> &'a str {
    obj.get(key).and_then(Value::as_str).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Object {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn unset_means_absent_or_null_for_pointers() {
        let mut o = object(json!({"a": null, "b": 0, "c": ""}));
        set_missing(&mut o, "a", json!(1));
        set_missing(&mut o, "b", json!(1));
        set_missing(&mut o, "c", json!(1));
        set_missing(&mut o, "d", json!(1));
        assert_eq!(Value::Object(o), json!({"a": 1, "b": 0, "c": "", "d": 1}));
    }

    #[test]
    fn zero_values_count_as_unset_for_plain_fields() {
        let mut o = object(json!({"s": "", "t": "x", "n": 0, "m": 5}));
        set_blank(&mut o, "s", "d");
        set_blank(&mut o, "t", "d");
        set_blank(&mut o, "u", "d");
        set_zero(&mut o, "n", 1);
        set_zero(&mut o, "m", 1);
        set_zero(&mut o, "p", 1);
        assert_eq!(
            Value::Object(o),
            json!({"s": "d", "t": "x", "u": "d", "n": 1, "m": 5, "p": 1})
        );
    }

    #[test]
    fn children_are_created_only_in_place_of_nothing() {
        let mut o = object(json!({"a": null, "b": "text"}));
        assert!(child_or_insert(&mut o, "a").is_some());
        assert!(child_or_insert(&mut o, "b").is_none());
        assert!(child_or_insert(&mut o, "c").is_some());
        assert_eq!(Value::Object(o), json!({"a": {}, "b": "text", "c": {}}));
    }

    #[test]
    fn lists_and_maps_are_empty_when_absent_null_or_empty() {
        assert!(is_empty_list(None));
        assert!(is_empty_list(Some(&json!(null))));
        assert!(is_empty_list(Some(&json!([]))));
        assert!(!is_empty_list(Some(&json!([1]))));
        assert!(is_empty_map(Some(&json!({}))));
        assert!(!is_empty_map(Some(&json!({"a": "b"}))));
    }
}
