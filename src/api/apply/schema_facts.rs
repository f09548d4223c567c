//! Facts server-side apply needs that the generated schema model does not carry yet:
//! which object schemas are atomic as a whole (`x-kubernetes-map-type: atomic` on the schema,
//! e.g. `LabelSelector`), which fields default to `{}` (non-pointer structs in the Go types,
//! always present in an object the real server holds), and the defaults of list-map key fields
//! (`protocol: TCP` for ports).
//!
//! They are read once, on first use, from the OpenAPI documents embedded in the binary (the
//! same documents `/openapi/v3` serves), keeping only these few facts.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

use crate::api::model::Ty;
use crate::generated::{GROUP_VERSIONS, SCHEMAS, schema_index};

/// What was read from the OpenAPI documents.
#[derive(Default)]
struct Facts {
    /// Indexed like `SCHEMAS`: the whole object is atomic.
    atomic: Vec<bool>,
    /// (schema, field) pairs whose default is `{}`.
    empty_object_default: HashSet<(usize, &'static str)>,
    /// Defaults of fields used as list-map keys: (item schema, key field) → default.
    key_defaults: HashMap<(usize, &'static str), Value>,
}

#[derive(Deserialize)]
struct Doc {
    #[serde(default)]
    components: Components,
}

#[derive(Default, Deserialize)]
struct Components {
    #[serde(default)]
    schemas: BTreeMap<String, SchemaDoc>,
}

#[derive(Deserialize)]
struct SchemaDoc {
    #[serde(rename = "x-kubernetes-map-type")]
    map_type: Option<String>,
    #[serde(default)]
    properties: BTreeMap<String, PropertyDoc>,
}

#[derive(Deserialize)]
struct PropertyDoc {
    default: Option<Value>,
}

/// (item schema, key field) for every key of every keyed list in the model.
fn key_fields() -> HashSet<(usize, &'static str)> {
    let mut out = HashSet::new();
    for schema in SCHEMAS {
        for f in schema.fields {
            let Ty::Array(Ty::Object(item)) = f.ty else {
                continue;
            };
            for k in f.list_map_keys.iter().chain(Some(&f.merge_key)) {
                if !k.is_empty()
                    && let Some(kf) = SCHEMAS[*item].field(k)
                {
                    out.insert((*item, kf.name));
                }
            }
        }
    }
    out
}

fn load() -> Facts {
    let keys = key_fields();
    let mut facts = Facts {
        atomic: vec![false; SCHEMAS.len()],
        ..Facts::default()
    };
    for gv in GROUP_VERSIONS {
        let Ok(doc) = serde_json::from_slice::<Doc>(&gv.openapi()) else {
            continue;
        };
        for (name, schema) in doc.components.schemas {
            let Some(i) = schema_index(&name) else {
                continue;
            };
            if schema.map_type.as_deref() == Some("atomic") {
                facts.atomic[i] = true;
            }
            for (prop, doc) in schema.properties {
                let (Some(default), Some(field)) = (doc.default, SCHEMAS[i].field(&prop)) else {
                    continue;
                };
                if matches!(&default, Value::Object(m) if m.is_empty()) {
                    facts.empty_object_default.insert((i, field.name));
                } else if !default.is_null() && keys.contains(&(i, field.name)) {
                    facts.key_defaults.insert((i, field.name), default);
                }
            }
        }
    }
    facts
}

fn facts() -> &'static Facts {
    static FACTS: OnceLock<Facts> = OnceLock::new();
    FACTS.get_or_init(load)
}

/// `true` when objects of this schema are atomic (replaced and owned as a whole).
pub fn is_atomic_struct(schema: usize) -> bool {
    facts().atomic.get(schema).copied().unwrap_or(false)
}

/// `true` when this field of this schema defaults to `{}`: the real server's objects always
/// carry it (a non-pointer struct in the Go types).
pub fn has_empty_object_default(schema: usize, field: &str) -> bool {
    SCHEMAS[schema]
        .field(field)
        .is_some_and(|f| facts().empty_object_default.contains(&(schema, f.name)))
}

/// The schema default of a list-map key field, used when an item omits the key.
pub fn key_default(item_schema: usize, field: &str) -> Option<&'static Value> {
    let name = SCHEMAS[item_schema].field(field)?.name;
    facts().key_defaults.get(&(item_schema, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_atomic_structs_and_defaults() {
        let selector = schema_index("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").unwrap();
        assert!(is_atomic_struct(selector));
        let spec = schema_index("io.k8s.api.apps.v1.DeploymentSpec").unwrap();
        assert!(!is_atomic_struct(spec));
        assert!(has_empty_object_default(spec, "strategy"));
        assert!(has_empty_object_default(spec, "template"));
        assert!(!has_empty_object_default(spec, "selector"));
        let port = schema_index("io.k8s.api.core.v1.ContainerPort").unwrap();
        assert_eq!(key_default(port, "protocol"), Some(&Value::from("TCP")));
    }
}
