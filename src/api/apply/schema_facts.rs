//! Facts server-side apply needs beyond field types: which object schemas are atomic as a whole
//! (`x-kubernetes-map-type: atomic` on the schema, e.g. `LabelSelector`), which fields default to
//! `{}` (non-pointer structs in the Go types, always present in an object the real server holds),
//! and the defaults of list-map key fields (`protocol: TCP` for ports). All come from the
//! generated schema model.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use crate::generated::SCHEMAS;

/// `true` when objects of this schema are atomic (replaced and owned as a whole).
pub fn is_atomic_struct(schema: usize) -> bool {
    SCHEMAS.get(schema).is_some_and(|s| s.atomic)
}

/// `true` when this field of this schema defaults to `{}`: the real server's objects always
/// carry it (a non-pointer struct in the Go types).
pub fn has_empty_object_default(schema: usize, field: &str) -> bool {
    SCHEMAS[schema]
        .field(field)
        .is_some_and(|f| f.default == "{}")
}

/// The schema default of a list-map key field, used when an item omits the key. Parsed once per
/// field, on first use.
pub fn key_default(item_schema: usize, field: &str) -> Option<&'static Value> {
    static PARSED: OnceLock<std::sync::Mutex<HashMap<(usize, &'static str), &'static Value>>> =
        OnceLock::new();
    let f = SCHEMAS[item_schema].field(field)?;
    if f.default.is_empty() {
        return None;
    }
    let mut cache = PARSED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let v = cache.entry((item_schema, f.name)).or_insert_with(|| {
        // Leaked once per key field with a default: a handful of small values for the process's life.
        Box::leak(Box::new(
            serde_json::from_str(f.default).unwrap_or(Value::Null),
        ))
    });
    (!v.is_null()).then_some(*v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::schema_index;

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
