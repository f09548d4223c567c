//! What a real server's decoding does to an object before it is stored: fields the schema does
//! not declare are dropped (after `fieldValidation` has warned or refused), and a Secret's
//! write-only `stringData` is folded into `data`.

use base64::Engine;
use serde_json::Value;

use crate::api::model::{ResourceInfo, Ty};
use crate::generated::SCHEMAS;

/// Removes every field the schema does not declare, at any depth (kept where the schema
/// accepts anything).
pub fn prune(v: &mut Value, ty: &Ty) {
    match (ty, v) {
        (Ty::Object(i), Value::Object(map)) => {
            let schema = &SCHEMAS[*i];
            map.retain(|k, _| schema.field(k).is_some());
            for (k, child) in map.iter_mut() {
                if let Some(f) = schema.field(k) {
                    prune(child, &f.ty);
                }
            }
        }
        (Ty::Array(item), Value::Array(items)) => items.iter_mut().for_each(|x| prune(x, item)),
        (Ty::Map(value), Value::Object(map)) => map.values_mut().for_each(|x| prune(x, value)),
        _ => {}
    }
}

/// The object as the real server stores it.
pub fn normalize(resource: &ResourceInfo, obj: &mut Value) {
    if resource.group.is_empty() && resource.name == "secrets" {
        fold_string_data(obj);
    }
    if let Some(i) = resource.schema {
        prune(obj, &Ty::Object(i));
    }
}

/// `stringData` entries become base64 `data` entries (winning over `data` of the same key).
fn fold_string_data(secret: &mut Value) {
    let Some(o) = secret.as_object_mut() else {
        return;
    };
    let Some(Value::Object(strings)) = o.remove("stringData") else {
        return;
    };
    let data = o
        .entry("data")
        .or_insert_with(|| Value::Object(Default::default()));
    if !data.is_object() {
        *data = Value::Object(Default::default());
    }
    let data = data.as_object_mut().expect("just made an object");
    for (k, v) in strings {
        let text = v
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string());
        data.insert(
            k,
            Value::String(base64::engine::general_purpose::STANDARD.encode(text)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_go_and_string_data_folds() {
        let secrets = crate::generated::resource("", "secrets").unwrap();
        let mut s = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "bogus": 1},
            "data": {"a": "eA=="}, "stringData": {"a": "y", "b": "z"}, "bogus": true});
        normalize(secrets, &mut s);
        assert_eq!(
            s,
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"a": "eQ==", "b": "eg=="}})
        );
        let cms = crate::generated::resource("", "configmaps").unwrap();
        let mut c =
            json!({"metadata": {"name": "c", "annotations": {"x": "y"}}, "data": {"k": "v"}});
        let before = c.clone();
        normalize(cms, &mut c);
        assert_eq!(c, before, "declared fields and map entries stay");
    }
}
