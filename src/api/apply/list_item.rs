//! The path element naming an item of an associative list: its key fields (with the schema
//! default for an optional key the item omits, as `protocol: TCP` for ports), or its value for a
//! set of scalars.

use serde_json::Value;

use super::path::PathElement;
use super::schema_facts;
use super::shape::ListKeys;
use crate::api::model::Ty;
use crate::generated::SCHEMAS;

/// The element of `item` in a list of items of type `ty` identified by `keys`.
pub fn element(keys: ListKeys, ty: &'static Ty, item: &Value) -> Result<PathElement, String> {
    match keys {
        ListKeys::Set => match item {
            Value::Object(_) => {
                Err("associative list without keys has an element that's a map type".into())
            }
            Value::Array(_) => {
                Err("associative list without keys has an element that's a list type".into())
            }
            v => Ok(PathElement::Value(v.clone())),
        },
        ListKeys::Keys(names) => {
            let m = match item {
                Value::Object(m) => m,
                Value::Null => {
                    return Err("associative list with keys may not have a null element".into());
                }
                _ => {
                    return Err("associative list with keys may not have non-map elements".into());
                }
            };
            let mut fields = Vec::with_capacity(names.len());
            for name in names {
                let value = match m.get(*name) {
                    Some(v) if !v.is_null() => v.clone(),
                    _ => key_default(ty, name).cloned().ok_or_else(|| {
                        format!(
                            "associative list with keys has an element that omits key field \
                             {name:?} (and doesn't have default value)"
                        )
                    })?,
                };
                fields.push((name.to_string(), value));
            }
            Ok(PathElement::key(fields))
        }
    }
}

/// The default of an optional key field. Required key fields have none: an item without them
/// is refused (their `""`/`0` schema defaults only mirror Go zero values).
fn key_default(ty: &'static Ty, name: &str) -> Option<&'static Value> {
    let Ty::Object(i) = ty else {
        return None;
    };
    let field = SCHEMAS[*i].field(name)?;
    if field.required {
        return None;
    }
    schema_facts::key_default(*i, name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::apply::shape::Shape;
    use crate::generated::schema_index;
    use serde_json::json;

    fn ports() -> (ListKeys, &'static Ty) {
        let c = schema_index("io.k8s.api.core.v1.Container").unwrap();
        match Shape::Struct(c).child("ports").0 {
            Shape::List(ty, keys) => (keys, ty),
            _ => unreachable!(),
        }
    }

    #[test]
    fn optional_keys_take_their_default() {
        let (keys, ty) = ports();
        let pe = element(keys, ty, &json!({"containerPort": 80})).unwrap();
        assert_eq!(
            pe,
            PathElement::key(vec![
                ("containerPort".into(), json!(80)),
                ("protocol".into(), json!("TCP"))
            ])
        );
    }

    #[test]
    fn required_keys_must_be_there() {
        let (keys, ty) = ports();
        let err = element(keys, ty, &json!({"protocol": "UDP"})).unwrap_err();
        assert!(err.contains("omits key field \"containerPort\""), "{err}");
        assert!(element(keys, ty, &json!(3)).is_err());
        assert!(element(ListKeys::Set, ty, &json!({})).is_err());
    }
}
